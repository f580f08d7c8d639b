#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: livy_config
short_description: Set or remove settings in Apache Livy's livy.conf
version_added: 0.1.0
description:
  - Sets or removes keys in C(livy.conf), the Java properties file Livy reads at start-up.
  - The file is read exactly the way Livy reads it, with C(java.util.Properties.load). Key and value
    are separated by C(=), C(:) or whitespace. Lines starting with C(#) or C(!) are comments. A line
    ending in a backslash continues on the next line. Backslash escapes such as C(\t) or C(\uXXXX)
    are decoded. When a key is set more than once, the last one wins.
  - A key that is set in the file is changed in place, and the separator of its line is kept. A value
    that spans continuation lines is replaced whole. When a key is set more than once, the line Livy
    reads is kept, the others are removed, and the key is listed in RV(collapsed_duplicates).
  - A key that is only in a commented-out template line, such as C(# livy.impersonation.enabled = true)
    in the C(livy.conf.template) that ships with Livy, is set in place of that comment, so the setting
    stays next to its documentation. Other new keys are added at the end of the file.
  - Values are compared after decoding, so a line that already says the same thing is left alone,
    however it is escaped. New values are escaped the way C(Properties.store) escapes them, so the
    lines written are plain ASCII.
  - Every line the module does not change stays byte for byte as it was, line endings included. A
    file without a final newline only gets one when a line is added after its last line.
  - The file is written through a temporary file in the same directory and an atomic rename. A
    symlink is followed and its target written, so the link stays. The temporary file is readable
    by its owner only until the file's mode is applied. When the rename is impossible (a
    bind-mounted file), the file is written in place only with O(unsafe_writes=true). A file Livy
    could not load (a malformed C(\uXXXX) escape) is never changed; the error names the line.
  - Livy reads the file as UTF-8. A UTF-16 file, a byte order mark (Java keeps it as part of the
    first key), bytes that are not UTF-8, and C(\uD800)-C(\uDFFF) escapes without their other
    half are refused with the reason, and the file is left as it is.
author:
  - datalake.notebooks maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.files
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  path:
    description:
      - Path of the Livy configuration file, for example C(/etc/livy/conf/livy.conf).
    type: path
    required: true
    aliases: [dest]
  properties:
    description:
      - With O(state=present), a dictionary of Livy keys to values. Values are strings; numbers are
        written as they are, and booleans are written V(true) or V(false) as Livy expects. A key
        whose value is V(null) is removed, so one task can both set and remove keys.
      - With O(state=absent), the keys to remove, as a list or as the keys of a dictionary (values are
        ignored). Every line that sets one of them is removed; commented-out template lines stay.
      - Every key must start with V(livy.). Livy ignores any other key in C(livy.conf) without a word,
        so the module refuses such keys rather than report a change that has no effect.
      - Values of secret keys are hidden in the module output and in diff mode, in whatever form
        the file holds them (escaped, C(\uXXXX), continued over lines); a changed secret shows as a
        changed line with a numbered placeholder. Secret keys are those whose name contains
        C(password), C(secret) or C(credential), or ends in C(token) or C(tokenValue), whatever the
        case, and those Hadoop's own C(hadoop.security.sensitive-config-keys) default names.
    type: raw
    required: true
  state:
    description:
      - Whether the keys should be present with the given values, or absent.
    type: str
    choices: [present, absent]
    default: present
  create:
    description:
      - Create the file when it does not exist and O(state=present).
      - When V(false), a missing file is an error with O(state=present). With O(state=absent), a
        missing file means there is nothing to do.
    type: bool
    default: true
  backup:
    description:
      - Keep a copy of the original file, named with a timestamp, before changing it.
    type: bool
    default: false
notes:
  - Livy trims the values it reads, so RV(properties) shows them trimmed. The comparison with the
    wanted value is made on the value as C(Properties.load) returns it, before trimming.
  - Livy reads C(livy.conf) as UTF-8. Characters outside printable ASCII in new values are written as
    C(\uXXXX) escapes.
seealso:
  - name: Livy configuration template
    description: The C(livy.conf.template) shipped with Livy, with every setting commented out.
    link: https://github.com/apache/incubator-livy/blob/master/conf/livy.conf.template
  - name: java.util.Properties.load
    description: The file format, as Livy reads it.
    link: https://docs.oracle.com/en/java/javase/17/docs/api/java.base/java/util/Properties.html#load(java.io.Reader)
"""

EXAMPLES = r"""
- name: Livy impersonates the notebook users
  datalake.notebooks.livy_config:
    path: /etc/livy/conf/livy.conf
    properties:
      livy.impersonation.enabled: true
      livy.superusers: jupyterhub
    backup: true

- name: Livy runs its sessions on YARN in cluster mode
  datalake.notebooks.livy_config:
    path: /etc/livy/conf/livy.conf
    properties:
      livy.spark.master: yarn
      livy.spark.deploy-mode: cluster
      livy.server.port: 8998
    owner: livy
    group: livy
    mode: "0640"

- name: Livy no longer uses a fixed session timeout
  datalake.notebooks.livy_config:
    path: /etc/livy/conf/livy.conf
    properties:
      - livy.server.session.timeout
    state: absent
"""

RETURN = r"""
path:
  description: The Livy configuration file.
  returned: always
  type: str
  sample: /etc/livy/conf/livy.conf
properties:
  description:
    - Every C(livy.) key Livy reads from the file and its value as Livy uses it (trimmed), after the
      change, or in check mode after the change that would be made.
    - The value of a secret key is shown as V(********).
  returned: success
  type: dict
  sample:
    livy.impersonation.enabled: "true"
    livy.superusers: jupyterhub
    livy.server.port: "8998"
collapsed_duplicates:
  description:
    - Keys from O(properties) that were set on more than one line. Only the line Livy reads (the last
      one) is kept.
  returned: success
  type: list
  elements: str
  sample: [livy.spark.master]
backup_file:
  description: Name of the backup copy made before the change.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /etc/livy/conf/livy.conf.12345.2026-11-23@11:42:07~
diff:
  description:
    - In diff mode, the file text before and after; a second entry lists owner, group or mode
      changes when there are any.
  returned: in diff mode
  type: list
  elements: dict
  contains:
    before:
      description: Text of the file before; empty when it did not exist.
      type: str
    after:
      description: Text of the file after.
      type: str
    before_header:
      description: Path of the file, marked C((absent)) when it did not exist.
      type: str
    after_header:
      description: Path of the file.
      type: str
  sample:
    - before: "# livy.impersonation.enabled = true\n"
      after: "livy.impersonation.enabled = true\n"
      before_header: /etc/livy/conf/livy.conf
      after_header: /etc/livy/conf/livy.conf
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake.notebooks.plugins.module_utils import _filewrite
from ansible_collections.datalake.notebooks.plugins.module_utils import _propfile
from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive

# Keys whose values stay out of the module's output: Hadoop's own list and Livy's secrets.
SENSITIVE = _sensitive.Sensitive(_sensitive.HADOOP_SENSITIVE_CONFIG_KEYS + _sensitive.LIVY_SENSITIVE_KEYS)


def hide_secrets(module, values, raw_values=()):
    """Let Ansible scrub secret values, decoded and in the escaped forms the file holds, everywhere."""
    for key, value in values.items():
        if value and SENSITIVE(key):
            module.no_log_values.update((value, _propfile.escape_value(value)))
    for key, raw in raw_values:
        if raw and SENSITIVE(key):
            module.no_log_values.add(raw)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True, aliases=['dest']),
            properties=dict(type='raw', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            create=dict(type='bool', default=True),
            backup=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params['path']
    state = module.params['state']
    result = dict(changed=False, path=path)

    try:
        present, absent = _propfile.normalize(module.params['properties'], state)
    except ValueError as exc:
        module.fail_json(msg='Invalid properties: %s.' % exc, **result)
    ignored = [key for key in list(present) + absent if not key.startswith('livy.')]
    if ignored:
        module.fail_json(
            msg='Livy only reads keys starting with "livy." from livy.conf and silently ignores the'
                ' others, so these would have no effect: %s. Use the Livy key name (for example'
                ' livy.spark.master).' % ', '.join(ignored),
            keys=ignored, **result)
    hide_secrets(module, present)

    def edit(before):
        problem = before is not None and _propfile.encoding_problem(before)
        if problem:
            module.fail_json(msg='%s: %s. The file was not changed.' % (path, problem), **result)
        try:
            document = _propfile.parse(before or '')
        except _propfile.PropertiesError as exc:
            module.fail_json(msg='%s cannot be loaded by Livy (java.util.Properties): %s. The file was not'
                             ' changed.' % (path, exc), line=exc.line, **result)
        hide_secrets(module, document.as_dict(), [(token.key, token.raw_value) for token in document.entries()])
        problem = _propfile.surrogate_problem(document)
        if problem:
            module.fail_json(msg='%s: %s. The file was not changed.' % (path, problem), **result)
        try:
            outcome = document.edit(set=present, remove=absent, path=path)
        except _propfile.PropertiesError as exc:
            module.fail_json(msg='%s: %s. The file was not changed.' % (path, exc), **result)
        for warning in outcome.warnings:
            module.warn(warning)
        result['properties'] = SENSITIVE.mask_values(outcome.document.livy_properties())
        result['collapsed_duplicates'] = outcome.collapsed
        placeholders = _sensitive.Placeholders()
        return outcome.text, lambda text: _propfile.display_text(text, SENSITIVE, placeholders)

    _filewrite.edit_config_file(module, path, result, edit, absent_result=dict(properties={}, collapsed_duplicates=[]))


if __name__ == '__main__':
    main()
