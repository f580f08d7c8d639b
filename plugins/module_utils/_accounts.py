# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""OS accounts of the notebook users: who exists, and the commands that create the missing ones.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

import pwd
import re
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Owner:
    uid: int
    gid: int


@dataclass(frozen=True)
class Account:
    """One passwd(5) entry, as far as the files written for its user need it."""

    uid: int
    gid: int
    home: str

    @property
    def owner(self):
        return Owner(self.uid, self.gid)


class PasswdError(ValueError):
    """A passwd database text that cannot be read."""


class ContainerError(Exception):
    """A container whose account database cannot be read."""


# uid_t and gid_t are 32 bits; (uid_t) -1 means "no change" to chown, never an owner.
MAX_ID = 2 ** 32 - 2
# A container name as Docker accepts it (also what keeps it from being read as an option).
CONTAINER_NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*\Z')


def _number(field):
    # int() also takes ' 12', '+12', '1_2' and non-ASCII digits; a passwd id is ASCII digits only.
    if not field or not field.isascii() or not field.isdigit() or int(field) > MAX_ID:
        return None
    return int(field)


def parse_passwd(text):
    """{name: Account} from passwd(5) text (what `getent passwd` prints). The first entry of a name wins.

    Lines end at "\\n" only, as the C library reads them: the other characters str.splitlines()
    breaks at (form feed, U+0085, U+2028, ...) may stand inside a GECOS field a user wrote with
    chfn, and must not start an entry. A line that is not seven fields with numeric ids is an
    error, never skipped or guessed at.
    """
    accounts = {}
    for number, line in enumerate(text.split('\n'), 1):
        line = line[:-1] if line.endswith('\r') else line
        if not line.strip() or line.startswith(('#', '+', '-')):
            continue
        fields = line.split(':')
        if len(fields) != 7:
            raise PasswdError('line %d has %d fields, passwd(5) lines have 7' % (number, len(fields)))
        uid, gid = _number(fields[2]), _number(fields[3])
        if uid is None or gid is None:
            raise PasswdError('line %d: uid and gid must be decimal numbers up to %d' % (number, MAX_ID))
        accounts.setdefault(fields[0], Account(uid, gid, fields[5]))
    return accounts


def container_name_problem(name):
    """Why `name` cannot be a container's name, or None."""
    if not isinstance(name, str) or not CONTAINER_NAME.match(name):
        return 'must be a Docker container name (letters, digits, "_", "." and "-", not starting with one of the last three)'
    return None


def container_accounts(run, cli, container):
    """{name: Account} of the container's account database, read with one `CLI exec CONTAINER getent passwd`.

    `run(argv)` runs a command and returns (rc, stdout, stderr). Raises ContainerError.
    """
    argv = [cli, 'exec', container, 'getent', 'passwd']
    rc, out, err = run(argv)
    if rc != 0:
        raise ContainerError('Cannot read the accounts of container %s (%s exited %d): %s'
                             % (container, ' '.join(argv), rc, (err or out).strip()))
    try:
        return parse_passwd(out)
    except PasswdError as exc:
        raise ContainerError('The account database of container %s cannot be read: %s.' % (container, exc)) from None


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
