# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

"""Filter: a role's warning, shown like a module's."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible.utils.display import Display

DOCUMENTATION = r"""
name: warning
short_description: Show a text as an Ansible warning and return it
version_added: 0.2.0
description:
  - Shows the input as a warning (like a module's warnings, in the run's output and summary) and
    returns it unchanged, so a role can warn about a setting without failing or changing anything.
  - Identical warnings are shown once per run.
positional: _input
options:
  _input:
    description: The warning text.
    type: string
    required: true
author:
  - datalake.notebooks maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Warn about an unsafe setting
  ansible.builtin.debug:
    msg: "{{ 'Livy impersonation is on without the Livy gate.' | datalake.notebooks.warning }}"
"""

RETURN = r"""
_value:
  description: The input text.
  type: string
"""

display = Display()


def warning(text):
    if not isinstance(text, str) or not text.strip():
        raise AnsibleFilterError('warning: the input must be a non-empty text, got %r' % (text,))
    display.warning(text.strip())
    return text.strip()


class FilterModule:
    def filters(self):
        return {'warning': warning}
