# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Hadoop proxy-user settings that let Livy impersonate notebook users, and nobody more.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
)

# Accounts that own the cluster: impersonating them is impersonating the cluster.
SERVICE_ACCOUNTS = ('root', 'hdfs', 'yarn', 'mapred')
WILDCARD = '*'


class ProxyUserError(ValueError):
    """A proxy-user setting that must not be written."""


def as_list(value, option):
    """Accept a list or a comma-separated string (as given with -e); return a clean list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(',')
    if not isinstance(value, (list, tuple)):
        raise ProxyUserError('%s must be a list or a comma-separated string, got %s.' % (option, type(value).__name__))
    items = []
    for item in value:
        if not isinstance(item, str):
            raise ProxyUserError('%s must contain strings only, got %r.' % (option, item))
        item = item.strip()
        if item and item not in items:
            items.append(item)
    return items


def forbidden_users(livy_user, hdfs_superuser):
    """Users Livy must never impersonate, in a stable order."""
    forbidden = list(SERVICE_ACCOUNTS)
    for extra in (hdfs_superuser, livy_user):
        if extra and extra not in forbidden:
            forbidden.append(extra)
    return forbidden


def check_users(users, option, livy_user, hdfs_superuser='hdfs'):
    """Raise ProxyUserError naming every user that is invalid or may not be impersonated."""
    if users == [WILDCARD]:
        return
    problems = invalid_names(users)
    if WILDCARD in users:
        problems.append((WILDCARD, 'mixes "*" with names (use "*" alone or names only)'))
    if problems:
        raise ProxyUserError(describe_invalid_names(option, problems))
    forbidden = forbidden_users(livy_user, hdfs_superuser)
    refused = [user for user in users if user in forbidden]
    if refused:
        raise ProxyUserError(
            '%s must not contain %s: the Livy user %r would then act as a cluster service account '
            '(never impersonated: %s).' % (option, ', '.join(refused), livy_user, ', '.join(forbidden)))


def proxyuser_properties(livy_user, hosts, users=None, groups=None, hdfs_superuser='hdfs'):
    """core-site.xml properties for `livy_user` as a proxy user.

    Returns (present, absent, warnings): the properties to set, the proxy-user keys to remove
    because their scope is not used, and warnings for wildcard scopes.
    """
    problem = invalid_names([livy_user])
    if problem:
        raise ProxyUserError(describe_invalid_names('livy_user', problem))
    hosts = as_list(hosts, 'proxyuser_hosts')
    users = as_list(users, 'proxyuser_users')
    groups = as_list(groups, 'proxyuser_groups')
    if not hosts:
        raise ProxyUserError(
            'proxyuser_hosts is empty: name the host(s) Livy runs on (or "*" to allow any host).')
    check_users(users, 'proxyuser_users', livy_user, hdfs_superuser)
    if groups != [WILDCARD] and WILDCARD in groups:
        raise ProxyUserError('proxyuser_groups mixes "*" with group names: use "*" alone or names only.')

    prefix = 'hadoop.proxyuser.%s.' % livy_user
    present = {prefix + 'hosts': ','.join(hosts)}
    absent = []
    for scope, values in (('users', users), ('groups', groups)):
        if values:
            present[prefix + scope] = ','.join(values)
        else:
            absent.append(prefix + scope)

    warnings = []
    for scope, values in (('hosts', hosts), ('users', users), ('groups', groups)):
        if values == [WILDCARD]:
            warnings.append(
                'hadoop.proxyuser.%s.%s is "*": %s. Prefer an explicit list.' % (
                    livy_user, scope,
                    'any host that reaches Livy can submit jobs as other users' if scope == 'hosts'
                    else 'Livy may impersonate %s, superusers included' % (
                        'any user' if scope == 'users' else 'the members of any group')))
    return present, absent, warnings
