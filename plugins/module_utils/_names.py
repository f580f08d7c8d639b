# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""User-name validation shared by every module that turns a name into a path or a proxy-user entry.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

import unicodedata

# What Hadoop's AccessControlList and MachineList read as "everything" when it stands alone.
WILDCARD = '*'


def name_problem(name):
    """Why `name` cannot be a notebook user (it becomes /user/<name> and a proxy-user entry), or None."""
    if not isinstance(name, str):
        return 'is not a string'
    if name == '':
        return 'is empty'
    if name in ('.', '..'):
        return 'is a path component (%s)' % name
    if '/' in name:
        return 'contains "/"'
    for char in name:
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp'):
            return 'contains a control character (U+%04X)' % ord(char)
        if char.isspace():
            return 'contains whitespace'
    if ',' in name:
        # Hadoop's proxy-user lists are comma-separated.
        return 'contains ","'
    if ':' in name:
        # HDFS refuses ':' in a path name.
        return 'contains ":"'
    if name == WILDCARD:
        # Alone in hadoop.proxyuser.<livy>.users, "*" is AccessControlList's "every user".
        return 'is "*", which Hadoop reads as "every user"'
    if '${' in name:
        # Configuration.substituteVars expands ${...} in proxy-user values (${user.name} is the
        # NameNode's own OS user); even an unclosed "${" can pair with a later name's "}".
        return 'contains "${", which Hadoop expands as a variable'
    if name.startswith('-'):
        # hdfs dfs (-chown OWNER:GROUP), useradd and other tools would read it as an option.
        return 'starts with "-", which commands read as an option'
    return None


def invalid_names(names):
    """[(name, reason), ...] for every unusable name, in input order."""
    problems = []
    for name in names:
        reason = name_problem(name)
        if reason is not None:
            problems.append((name, reason))
    return problems


def invalid_users(problems):
    """The `invalid_users` every module returns: [{'name': ..., 'reason': ...}] of invalid_names()."""
    return [dict(name=name, reason=reason) for name, reason in problems]


def describe_invalid_names(option, problems, kind='user'):
    """One error message naming the option and every offender."""
    return 'Invalid %s name(s) in %s: %s.' % (
        kind, option, '; '.join('%r %s' % (name, reason) for name, reason in problems))
