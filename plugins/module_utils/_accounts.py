# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""OS accounts of the notebook users: who exists, and the commands that create the missing ones.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

import pwd
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


class PasswdError(ValueError):
    """A passwd database text that cannot be read."""


def parse_passwd(text):
    """{name: Owner} from passwd(5) text (what `getent passwd` prints). The first entry of a name wins."""
    owners = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith(('#', '+', '-')):
            continue
        fields = line.split(':')
        if len(fields) < 7:
            raise PasswdError('line %d has %d fields, passwd(5) lines have 7' % (number, len(fields)))
        try:
            owner = Owner(int(fields[2]), int(fields[3]))
        except ValueError:
            raise PasswdError('line %d: uid and gid must be numbers' % number) from None
        owners.setdefault(fields[0], owner)
    return owners


def host_owners(users):
    """{user: Owner} for the users this host's account database knows.

    One pass over getpwall() (a lookup per name rescans /etc/passwd), then getpwnam for the names
    the enumeration does not return (directory services often do not enumerate).
    """
    wanted = set(users)
    owners = {}
    for entry in pwd.getpwall():
        if entry.pw_name in wanted and entry.pw_name not in owners:
            owners[entry.pw_name] = Owner(entry.pw_uid, entry.pw_gid)
    for name in wanted - set(owners):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        owners[name] = Owner(entry.pw_uid, entry.pw_gid)
    return owners


def useradd_argv(name, shell='/bin/bash', create_home=True, home_base=None, user_group=True):
    """useradd's command line for one account. The account's password stays locked: logging in is
    the hub's business (its authenticator), not the role's."""
    argv = ['useradd', '--shell', shell]
    argv.append('--create-home' if create_home else '--no-create-home')
    if home_base:
        argv += ['--base-dir', home_base]
    argv.append('--user-group' if user_group else '--no-user-group')
    return argv + [name]


def useradd_script(names, **options):
    """One sh script that creates every account in `names`, stopping at the first failure."""
    lines = ['set -eu']
    lines += [' '.join(shlex.quote(arg) for arg in useradd_argv(name, **options)) for name in names]
    return '\n'.join(lines) + '\n'
