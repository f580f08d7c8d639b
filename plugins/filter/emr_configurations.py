# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Filter: EMR configuration classifications from per-file properties."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.datalake.notebooks.plugins.module_utils._emr import (
    emr_configurations as build_configurations,
)

DOCUMENTATION = r"""
name: emr_configurations
short_description: Amazon EMR configuration classifications from per-file properties
version_added: 0.1.0
description:
  - Turns a mapping of EMR classification name (V(livy-conf), V(core-site), ...) to properties into the
    list EMR accepts at cluster creation (C(aws emr create-cluster --configurations)).
  - Property values become strings; booleans become V(true) / V(false). Classifications without
    properties are left out.
options:
  _input:
    description: Mapping of classification name to a mapping of properties.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: EMR classifications for Livy impersonation
  ansible.builtin.copy:
    dest: /tmp/configurations.json
    mode: "0644"
    content: >-
      {{ {'livy-conf': {'livy.impersonation.enabled': true},
          'core-site': {'hadoop.proxyuser.livy.hosts': '*', 'hadoop.proxyuser.livy.groups': '*'}}
         | datalake.notebooks.emr_configurations | to_nice_json }}
"""

RETURN = r"""
_value:
  description: 'List of C({"Classification": name, "Properties": {...}}).'
  type: list
  elements: dict
"""


def emr_configurations(classifications):
    try:
        return build_configurations(classifications)
    except ValueError as exc:
        raise AnsibleFilterError('emr_configurations: %s' % exc) from None


class FilterModule:
    def filters(self):
        return {'emr_configurations': emr_configurations}
