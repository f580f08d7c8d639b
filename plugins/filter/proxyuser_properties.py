# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Filter: the core-site.xml proxy-user properties for Livy."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

from ansible_collections.datalake.notebooks.plugins.module_utils._proxyuser import (
    ProxyUserError,
    proxyuser_properties as build_properties,
)

DOCUMENTATION = r"""
name: proxyuser_properties
short_description: Hadoop proxy-user properties that let Livy impersonate notebook users
version_added: 0.1.0
description:
  - Returns a dictionary with three keys, C(present) (the C(hadoop.proxyuser.<livy_user>.*) properties to set),
    C(absent) (the proxy-user keys to remove because their scope is not used), and C(properties), both in one
    mapping for one C(hadoop_config) call (the keys to remove have the value V(null)).
  - Refuses names that are not valid user names and the accounts Livy must never impersonate
    (V(root), V(hdfs), V(yarn), V(mapred), the HDFS superuser and the Livy user itself).
  - User and group names are data, never list syntax or wildcards. A name Hadoop would read
    specially is refused; that is V(*) among other names, a name containing V(${) (Hadoop expands
    it as a variable), C(,), whitespace or control characters, or a name starting with C(-).
  - Refuses the HDFS superuser group O(hdfs_superusergroup) in O(groups).
  - Refuses host entries Hadoop cannot read; an entry is a host name, an IPv4 or IPv6 address, or
    an IPv4 CIDR range. Hadoop 3.3.6 reads ranges with commons-net C(SubnetUtils), which fails the
    NameNode's refresh on an IPv6 range, so IPv6 addresses must be listed one by one.
  - Warns when a scope is V(*), when the host ranges together cover every IPv4 address (V(0.0.0.0/0)
    for example), which is the same as V(*), and when groups are given, since a service account
    that is a member of one of them becomes impersonable.
options:
  _input:
    description: The OS user Livy runs as.
    type: string
    required: true
  hosts:
    description:
      - Hosts Livy connects from; a list or a comma-separated string.
      - Host names, IPv4 or IPv6 addresses, IPv4 CIDR ranges (V(10.0.0.0/24)), or V(*) alone.
    type: raw
    required: true
  users:
    description: Users Livy may impersonate; a list or a comma-separated string.
    type: raw
  groups:
    description:
      - Groups whose members Livy may impersonate; a list or a comma-separated string.
      - V(*) alone means every user.
    type: raw
  hdfs_superuser:
    description: The HDFS superuser, never impersonated.
    type: string
    default: hdfs
  hdfs_superusergroup:
    description:
      - The HDFS superuser group (C(dfs.permissions.superusergroup) of the NameNode), never allowed in
        O(groups), since every member of it is an HDFS superuser.
      - Amazon EMR sets it to V(hadoop).
    type: string
    default: supergroup
"""

EXAMPLES = r"""
- name: Proxy-user settings for the notebook users
  ansible.builtin.debug:
    msg: "{{ 'livy' | datalake.notebooks.proxyuser_properties(hosts=['master-1'], users=['shirley', 'diego']) }}"
  # {"present": {"hadoop.proxyuser.livy.hosts": "master-1", "hadoop.proxyuser.livy.users": "shirley,diego"},
  #  "absent": ["hadoop.proxyuser.livy.groups"],
  #  "properties": {"hadoop.proxyuser.livy.hosts": "master-1", "hadoop.proxyuser.livy.users": "shirley,diego",
  #                 "hadoop.proxyuser.livy.groups": null}}
"""

RETURN = r"""
_value:
  description: C(present) (property name to value), C(absent) (property names) and C(properties) (both, the
    names to remove with a null value).
  type: dict
"""


def proxyuser_properties(livy_user, hosts, users=None, groups=None, hdfs_superuser='hdfs',
                         hdfs_superusergroup='supergroup'):
    try:
        present, absent, warnings = build_properties(livy_user, hosts, users, groups, hdfs_superuser,
                                                     hdfs_superusergroup)
    except ProxyUserError as exc:
        raise AnsibleFilterError('livy_impersonation: %s' % exc) from None
    display = Display()
    for warning in warnings:
        # Display de-duplicates identical warnings, so lazy templating does not repeat them.
        display.warning(warning)
    properties = dict(present)
    properties.update((name, None) for name in absent)
    return {'present': present, 'absent': absent, 'properties': properties}


class FilterModule:
    def filters(self):
        return {'proxyuser_properties': proxyuser_properties}
