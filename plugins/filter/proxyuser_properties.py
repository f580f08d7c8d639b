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
  - Returns a dictionary with two keys, C(present) (the C(hadoop.proxyuser.<livy_user>.*) properties to set)
    and C(absent) (the proxy-user keys to remove because their scope is not used).
  - Refuses names that are not valid user names and the accounts Livy must never impersonate
    (V(root), V(hdfs), V(yarn), V(mapred), the HDFS superuser and the Livy user itself).
  - Warns when a scope is V(*).
options:
  _input:
    description: The OS user Livy runs as.
    type: string
    required: true
  hosts:
    description: Hosts Livy connects from; a list or a comma-separated string.
    type: raw
    required: true
  users:
    description: Users Livy may impersonate; a list or a comma-separated string.
    type: raw
  groups:
    description: Groups whose members Livy may impersonate; a list or a comma-separated string.
    type: raw
  hdfs_superuser:
    description: The HDFS superuser, never impersonated.
    type: string
    default: hdfs
"""

EXAMPLES = r"""
- name: Proxy-user settings for the notebook users
  ansible.builtin.debug:
    msg: "{{ 'livy' | datalake.notebooks.proxyuser_properties(hosts=['master-1'], users=['shirley', 'diego']) }}"
  # {"present": {"hadoop.proxyuser.livy.hosts": "master-1", "hadoop.proxyuser.livy.users": "shirley,diego"},
  #  "absent": ["hadoop.proxyuser.livy.groups"]}
"""

RETURN = r"""
_value:
  description: C(present) (property name to value) and C(absent) (property names).
  type: dict
"""


def proxyuser_properties(livy_user, hosts, users=None, groups=None, hdfs_superuser='hdfs'):
    try:
        present, absent, warnings = build_properties(livy_user, hosts, users, groups, hdfs_superuser)
    except ProxyUserError as exc:
        raise AnsibleFilterError('livy_impersonation: %s' % exc) from None
    display = Display()
    for warning in warnings:
        # Display de-duplicates identical warnings, so lazy templating does not repeat them.
        display.warning(warning)
    return {'present': present, 'absent': absent}


class FilterModule:
    def filters(self):
        return {'proxyuser_properties': proxyuser_properties}
