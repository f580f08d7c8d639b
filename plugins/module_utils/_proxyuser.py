# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Hadoop proxy-user settings that let Livy impersonate notebook users, and nobody more.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.

The values are read by Hadoop 3.3.6's DefaultImpersonationProvider: users and groups by
AccessControlList (StringUtils.getTrimmedStringCollection: split on "," and newlines, trimmed,
"*" alone meaning everyone), hosts by MachineList (the same split; "*" alone meaning every host;
an entry with "/" is a commons-net SubnetUtils IPv4 CIDR range, anything else is resolved with
InetAddress.getByName). A CIDR entry SubnetUtils cannot parse throws, so the NameNode's refresh
(or start) fails: such entries are refused here rather than written.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    WILDCARD,
    describe_invalid_names,
    invalid_names,
)

# Accounts that own the cluster: impersonating them is impersonating the cluster.
SERVICE_ACCOUNTS = ('root', 'hdfs', 'yarn', 'mapred')
# dfs.permissions.superusergroup when hdfs-site.xml does not set it (hdfs-default.xml).
DEFAULT_SUPERUSERGROUP = 'supergroup'

_HOST_LABEL = re.compile(r'^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$')
_ALL_IPV4 = ipaddress.IPv4Network('0.0.0.0/0')


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


def _name_problems(values):
    """invalid_names, with "*" among other names reported as a mix rather than as a name."""
    problems = [(name, reason) for name, reason in invalid_names(values) if name != WILDCARD]
    if WILDCARD in values:
        problems.append((WILDCARD, 'mixes "*" with names (use "*" alone or names only)'))
    return problems


def check_users(users, option, livy_user, hdfs_superuser='hdfs'):
    """Raise ProxyUserError naming every user that is invalid or may not be impersonated."""
    if users == [WILDCARD]:
        return
    problems = _name_problems(users)
    if problems:
        raise ProxyUserError(describe_invalid_names(option, problems))
    forbidden = forbidden_users(livy_user, hdfs_superuser)
    refused = [user for user in users if user in forbidden]
    if refused:
        raise ProxyUserError(
            '%s must not contain %s: the Livy user %r would then act as a cluster service account '
            '(never impersonated: %s).' % (option, ', '.join(refused), livy_user, ', '.join(forbidden)))


def check_groups(groups, option, livy_user, hdfs_superusergroup=DEFAULT_SUPERUSERGROUP):
    """Raise ProxyUserError naming every group that is invalid or is the HDFS superuser group."""
    if groups == [WILDCARD]:
        return
    problems = _name_problems(groups)
    if problems:
        raise ProxyUserError(describe_invalid_names(option, problems, kind='group'))
    if hdfs_superusergroup in groups:
        raise ProxyUserError(
            '%s must not contain %s: it is the HDFS superuser group (dfs.permissions.superusergroup), so the '
            'Livy user %r could act as every HDFS superuser. Name the notebook users\' own groups instead.'
            % (option, hdfs_superusergroup, livy_user))


def host_problem(entry):
    """Why `entry` cannot be an entry of hadoop.proxyuser.<user>.hosts, or None."""
    for char in entry:
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp') or char.isspace():
            return 'contains whitespace or a control character (U+%04X)' % ord(char)
    if ',' in entry:
        return 'contains ","'
    if '/' in entry:
        try:
            ipaddress.IPv4Network(entry, strict=False)
            return None
        except ValueError:
            pass
        try:
            ipaddress.IPv6Network(entry, strict=False)
            return ('is an IPv6 range: Hadoop reads ranges with commons-net SubnetUtils, which takes IPv4 '
                    'CIDR only and fails the NameNode\'s refresh; list the IPv6 addresses one by one')
        except ValueError:
            return 'is not a CIDR range such as 10.0.0.0/24 (an IPv4 address, "/", a prefix length 0-32)'
    address = entry[1:-1] if entry.startswith('[') and entry.endswith(']') else entry
    try:
        ipaddress.ip_address(address)
        return None
    except ValueError:
        pass
    if all(char.isdigit() or char == '.' for char in entry):
        # Java would read "10.1" as 10.0.0.1; the file should say what it means.
        return 'is not an IPv4 address: write four numbers 0-255 separated by "."'
    name = entry[:-1] if entry.endswith('.') else entry
    if len(name) > 253 or not all(_HOST_LABEL.match(label) for label in name.split('.')):
        return 'is not a host name, IP address or CIDR range'
    return None


def check_hosts(hosts, option):
    """Raise ProxyUserError naming every unusable host entry; True when the list means every host."""
    if hosts == [WILDCARD]:
        return True
    if WILDCARD in hosts:
        raise ProxyUserError(
            '%s mixes "*" with host entries: Hadoop\'s MachineList then treats "*" as a host name and ignores '
            'it. Use "*" alone or hosts only.' % option)
    problems = [(entry, host_problem(entry)) for entry in hosts if host_problem(entry)]
    if problems:
        raise ProxyUserError('Invalid host entr%s in %s: %s.' % (
            'y' if len(problems) == 1 else 'ies', option,
            '; '.join('%r %s' % problem for problem in problems)))
    ranges = [ipaddress.IPv4Network(entry, strict=False) for entry in hosts if '/' in entry]
    return list(ipaddress.collapse_addresses(ranges)) == [_ALL_IPV4]


def proxyuser_properties(livy_user, hosts, users=None, groups=None, hdfs_superuser='hdfs',
                         hdfs_superusergroup=DEFAULT_SUPERUSERGROUP):
    """core-site.xml properties for `livy_user` as a proxy user.

    Returns (present, absent, warnings): the properties to set, the proxy-user keys to remove
    because their scope is not used, and warnings for wildcard scopes (a host list whose CIDR
    ranges cover every IPv4 address counts as "*").
    """
    problem = invalid_names([livy_user])
    if problem:
        raise ProxyUserError(describe_invalid_names('livy_user', problem))
    for option, value in (('hdfs_superuser', hdfs_superuser), ('hdfs_superusergroup', hdfs_superusergroup)):
        problem = invalid_names([value])
        if problem:
            raise ProxyUserError(describe_invalid_names(
                option, problem, kind='user' if option == 'hdfs_superuser' else 'group'))
    hosts = as_list(hosts, 'proxyuser_hosts')
    users = as_list(users, 'proxyuser_users')
    groups = as_list(groups, 'proxyuser_groups')
    if not hosts:
        raise ProxyUserError(
            'proxyuser_hosts is empty: name the host(s) Livy runs on (or "*" to allow any host).')
    every_host = check_hosts(hosts, 'proxyuser_hosts')
    check_users(users, 'proxyuser_users', livy_user, hdfs_superuser)
    check_groups(groups, 'proxyuser_groups', livy_user, hdfs_superusergroup)

    prefix = 'hadoop.proxyuser.%s.' % livy_user
    present = {prefix + 'hosts': ','.join(hosts)}
    absent = []
    for scope, values in (('users', users), ('groups', groups)):
        if values:
            present[prefix + scope] = ','.join(values)
        else:
            absent.append(prefix + scope)

    warnings = []
    if every_host and hosts != [WILDCARD]:
        warnings.append(
            'hadoop.proxyuser.%s.hosts (%s) covers every IPv4 address, the same as "*": any host that '
            'reaches Livy can submit jobs as other users. Prefer an explicit list.' % (livy_user, ','.join(hosts)))
    for scope, values in (('hosts', hosts), ('users', users), ('groups', groups)):
        if values == [WILDCARD]:
            warnings.append(
                'hadoop.proxyuser.%s.%s is "*": %s. Prefer an explicit list.' % (
                    livy_user, scope,
                    'any host that reaches Livy can submit jobs as other users' if scope == 'hosts'
                    else 'Livy may impersonate %s, superusers included' % (
                        'any user' if scope == 'users' else 'the members of any group')))
    if groups and groups != [WILDCARD]:
        # Hadoop checks the impersonated user's own groups, so a service account in one of these
        # groups becomes impersonable although it is refused by name.
        warnings.append(
            'hadoop.proxyuser.%s.groups lets Livy impersonate every member of %s: make sure none of %s '
            'belongs to them.' % (livy_user, ', '.join(groups),
                                  ', '.join(forbidden_users(livy_user, hdfs_superuser))))
    return present, absent, warnings
