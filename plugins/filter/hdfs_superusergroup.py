# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Filter: the HDFS superuser group, read from site-file texts the way the NameNode reads them."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_site import (
    HadoopSiteError,
    superusergroup_from_texts,
)

DOCUMENTATION = r"""
name: hdfs_superusergroup
short_description: The HDFS superuser group (dfs.permissions.superusergroup) from site-file texts
version_added: 0.2.0
description:
  - Reads C(dfs.permissions.superusergroup) from the given C(*-site.xml) texts as Hadoop's
    C(Configuration) loads them, in the order given (core-site.xml first, then hdfs-site.xml, as the
    NameNode does). The last value wins, a final property keeps its value, an empty value is skipped.
  - Returns V(supergroup), Hadoop's default, when no text sets it. The role keeps this group out of
    C(hadoop.proxyuser.<livy>.groups), because its members are HDFS superusers.
options:
  _input:
    description: The texts of the site files, in load order (for example from C(ansible.builtin.slurp)).
    type: list
    elements: string
    required: true
"""

EXAMPLES = r"""
- name: The HDFS superuser group of this cluster
  ansible.builtin.debug:
    msg: "{{ [lookup('file', 'core-site.xml'), lookup('file', 'hdfs-site.xml')] | datalake.notebooks.hdfs_superusergroup }}"
"""

RETURN = r"""
_value:
  description: The group name.
  type: string
"""


def hdfs_superusergroup(texts):
    try:
        return superusergroup_from_texts([text.encode('utf-8') if isinstance(text, str) else text for text in texts])
    except HadoopSiteError as exc:
        raise AnsibleFilterError('livy_impersonation: a Hadoop site file cannot be read: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'hdfs_superusergroup': hdfs_superusergroup}
