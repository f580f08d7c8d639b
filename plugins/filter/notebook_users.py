# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Filter: the notebook user list, checked before anything is made for those users."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._proxyuser import forbidden_users

DOCUMENTATION = r"""
name: notebook_users
short_description: Check a notebook user list before homes, files or accounts are made for it
version_added: 0.2.0
description:
  - Returns the list unchanged when every name is a valid user name and none is an account Livy must
    never act for (V(root), V(hdfs), V(yarn), V(mapred), the HDFS superuser, the Livy user).
  - Fails naming every offender otherwise. V(*) is not a user name here, because notebook users are data.
options:
  _input:
    description: The notebook user names.
    type: list
    elements: string
    required: true
  livy_user:
    description: The OS user Livy runs as.
    type: string
    default: livy
  hdfs_superuser:
    description: The HDFS superuser.
    type: string
    default: hdfs
"""

EXAMPLES = r"""
- name: The notebook users are checked
  ansible.builtin.set_fact:
    notebook_users: "{{ ['shirley', 'diego'] | datalake.notebooks.notebook_users(livy_user='livy') }}"
"""

RETURN = r"""
_value:
  description: The input list.
  type: list
  elements: string
"""


def notebook_users(users, livy_user='livy', hdfs_superuser='hdfs'):
    users = list(users)
    problems = invalid_names(users)
    if problems:
        raise AnsibleFilterError('livy_impersonation: %s' % describe_invalid_names('the notebook users', problems))
    forbidden = forbidden_users(livy_user, hdfs_superuser)
    refused = [user for user in users if user in forbidden]
    if refused:
        raise AnsibleFilterError(
            'livy_impersonation: the notebook users must not contain %s: Livy would act for a cluster service'
            ' account, and its HDFS home and files would be made for it (never notebook users: %s).'
            % (', '.join(refused), ', '.join(forbidden)))
    return users


class FilterModule:
    def filters(self):
        return {'notebook_users': notebook_users}
