#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: hadoop_config
short_description: Set or remove properties in a Hadoop *-site.xml file
version_added: 0.1.0
description:
  - Sets or removes C(<property>) entries of a Hadoop configuration file such as C(core-site.xml),
    C(hdfs-site.xml) or C(yarn-site.xml).
  - Only the parts of the file that change are rewritten. Every other byte—untouched properties,
    comments, the XML declaration, the stylesheet processing instruction, indentation and line
    endings—stays as it was. A new property is indented like the existing ones.
  - Values are read the way Hadoop reads them. The name is trimmed, the value is taken as written.
    A property is final only when C(<final>) is exactly V(true). The short form
    C(<property name="..." value="..."/>) is understood too.
  - When a name is defined more than once, Hadoop uses the last definition, unless an earlier one
    is final, in which case it uses that one. A definition with an empty C(<value></value>) does
    not replace an earlier value (Hadoop skips it), though a final one still locks the name. The
    module compares against and edits the definition Hadoop uses, leaves the others alone, and
    warns about the duplicates. With O(state=absent) every definition is removed.
  - The file is written through a temporary file in the same directory and an atomic rename.
    A symlink is followed and its target written, so the link stays. The temporary file is
    readable by its owner only until the file's mode is applied. When the rename is impossible
    (a bind-mounted file), the file is written in place only with O(unsafe_writes=true).
    A file that is not well-formed XML is never changed; the error names its line and column.
  - The file must be UTF-8 or another ASCII-compatible encoding it declares. A UTF-16 or UTF-32
    file, or bytes that are not valid in the file's encoding, are refused with the reason.
  - Values of secret names are hidden in RV(properties) and in diff mode, in whatever form the
    file holds them. The names are those of Hadoop's own C(hadoop.security.sensitive-config-keys)
    default (for example C(fs.s3a.secret.key), C(fs.azure.account.key.*), names ending in
    C(password) or C(secret)), plus the patterns the file itself sets in that property. A changed
    secret shows as a changed line with a numbered placeholder.
  - In diff mode, a long comma-separated value (such as 10,000 proxy users) is shown one item a line,
    so adding one name shows as one added line. The file itself keeps the value as it is.
author:
  - datalake.notebooks maintainers (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.files
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  path:
    description:
      - Path of the site file, for example C(/etc/hadoop/conf/core-site.xml).
    type: path
    required: true
    aliases: [dest]
  properties:
    description:
      - With O(state=present), a dictionary of property names to values. A value is either the
        value itself (a string, number or boolean; booleans are written V(true)/V(false) as Hadoop
        expects) or a dictionary with the keys C(value) (required), C(final) and C(description).
      - C(final) set to V(true) or V(false) marks or unmarks the property as final. C(description)
        sets its description. When they are left out, an existing property keeps what it has.
      - A name whose value is V(null) is removed (every definition of it), so one task can both set
        and remove properties.
      - With O(state=absent), the names to remove, as a list or as the keys of a dictionary
        (values are ignored).
      - An empty value is written as C(<value></value>), which Hadoop treats as not set. Wanting
        an empty value means that no definition Hadoop reads keeps a value, so every one of them
        is emptied.
    type: raw
    required: true
  state:
    description:
      - Whether the properties should be present with the given values, or absent.
    type: str
    choices: [present, absent]
    default: present
  create:
    description:
      - Create the file, with an XML declaration and an empty C(<configuration>), when it does
        not exist and O(state=present).
      - When V(false), a missing file is an error with O(state=present) and nothing to do with
        O(state=absent).
    type: bool
    default: false
  force:
    description:
      - Change or remove properties that are marked final (C(<final>true</final>)).
      - A final property is one an administrator locked, and Hadoop ignores any later definition
        of it, so without O(force=true) the module refuses to change its value or remove it and
        fails naming the property and its line.
    type: bool
    default: false
  backup:
    description:
      - Keep a copy of the original file, named with a timestamp, before changing it.
    type: bool
    default: false
notes:
  - Properties pulled in from other files with C(xi:include) are not seen or changed.
  - Only C(<property>) elements directly under C(<configuration>) are read and edited.
seealso:
  - name: Hadoop Configuration
    description: How Hadoop reads these files, including final parameters.
    link: https://hadoop.apache.org/docs/stable/api/org/apache/hadoop/conf/Configuration.html
"""

EXAMPLES = r"""
- name: Livy may impersonate notebook users
  datalake.notebooks.hadoop_config:
    path: /etc/hadoop/conf/core-site.xml
    properties:
      hadoop.proxyuser.livy.hosts: livy.example.com
      hadoop.proxyuser.livy.groups: notebook-users
    backup: true

- name: The default file system is set and locked
  datalake.notebooks.hadoop_config:
    path: /etc/hadoop/conf/core-site.xml
    properties:
      fs.defaultFS:
        value: hdfs://namenode.example.com:8020
        final: true
        description: The NameNode every client talks to.
    force: true

- name: Short-circuit reads are on, in a file created if needed
  datalake.notebooks.hadoop_config:
    path: /etc/hadoop/conf/hdfs-site.xml
    properties:
      dfs.client.read.shortcircuit: true
      dfs.domain.socket.path: /var/lib/hadoop-hdfs/dn_socket
    create: true
    owner: hdfs
    group: hadoop
    mode: "0644"

- name: An old proxy user is gone
  datalake.notebooks.hadoop_config:
    path: /etc/hadoop/conf/core-site.xml
    properties:
      - hadoop.proxyuser.oldlivy.hosts
      - hadoop.proxyuser.oldlivy.groups
    state: absent
"""

RETURN = r"""
path:
  description: The site file.
  returned: always
  type: str
  sample: /etc/hadoop/conf/core-site.xml
properties:
  description:
    - The value Hadoop reads from the file for each name in O(properties), after the change
      (or, in check mode, after the change that would be made).
    - V(null) for a name that is absent or has no value.
    - The value of a secret name (see the description) is shown as V(********).
  returned: always
  type: dict
  sample:
    hadoop.proxyuser.livy.hosts: livy.example.com
    hadoop.proxyuser.oldlivy.groups: null
backup_file:
  description: Name of the backup copy made before the change.
  returned: when O(backup=true) and the file was changed
  type: str
  sample: /etc/hadoop/conf/core-site.xml.12345.2026-11-23@11:42:07~
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
    - before: "<configuration>\n</configuration>\n"
      after: "<configuration>\n  <property>\n    <name>a</name>\n    <value>1</value>\n  </property>\n</configuration>\n"
      before_header: /etc/hadoop/conf/core-site.xml
      after_header: /etc/hadoop/conf/core-site.xml
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake.notebooks.plugins.module_utils import _filewrite
from ansible_collections.datalake.notebooks.plugins.module_utils import _hadoop_xml
from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive


def hide_secrets(module, sensitive, to_set, text):
    """Let Ansible scrub the values of sensitive names, wanted and in the file, everywhere."""
    for name, want in to_set.items():
        if want.value and sensitive(name):
            module.no_log_values.update((want.value, _hadoop_xml.escape(want.value)))
    try:
        doc = _hadoop_xml.parse(text)
    except _hadoop_xml.SiteXmlError:
        return
    for prop in doc.properties:
        if prop.name is not None and prop.value and sensitive(prop.name):
            module.no_log_values.update((prop.value, _hadoop_xml.escape(prop.value)))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True, aliases=['dest']),
            properties=dict(type='raw', required=True),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            create=dict(type='bool', default=False),
            force=dict(type='bool', default=False),
            backup=dict(type='bool', default=False),
        ),
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params['path']
    state = module.params['state']
    result = dict(changed=False, path=path)

    try:
        to_set, to_remove = _hadoop_xml.normalize(module.params['properties'], state)
    except ValueError as exc:
        module.fail_json(msg='Invalid properties: %s.' % exc, **result)

    sensitive = _sensitive.Sensitive()
    hide_secrets(module, sensitive, to_set, '')

    def edit(before):
        if before is not None:
            # A site file may widen Hadoop's list of sensitive names; it never narrows what is hidden.
            for pattern in _hadoop_xml.sensitive_key_patterns(before):
                sensitive.add(pattern)
            hide_secrets(module, sensitive, to_set, before)
        try:
            document = _hadoop_xml.parse(before if before is not None else _hadoop_xml.new_document())
            outcome = document.edit(set=to_set, remove=to_remove, force=module.params['force'], path=path)
        except _hadoop_xml.EncodingError as exc:
            module.fail_json(msg='%s: %s. The file was not changed.' % (path, exc), line=exc.line,
                             column=exc.column, **result)
        except _hadoop_xml.SiteXmlError as exc:
            module.fail_json(msg='%s is not a valid Hadoop configuration file: %s. The file was not'
                             ' changed.' % (path, exc), line=exc.line, column=exc.column, **result)
        except _hadoop_xml.FinalPropertyError as exc:
            module.fail_json(msg=str(exc), final_properties=exc.names, **result)
        except _hadoop_xml.EditError as exc:
            module.fail_json(msg='Refusing to write %s: %s. Please report this with the file.' % (path, exc),
                             **result)
        for warning in outcome.warnings:
            module.warn(warning)
        result['properties'] = sensitive.mask_values(outcome.values)
        placeholders = _sensitive.Placeholders()
        return outcome.text, lambda text: _hadoop_xml.display_text(text, sensitive, placeholders)

    _filewrite.edit_config_file(module, path, result, edit,
                                absent_result=dict(properties=dict.fromkeys(list(to_set) + to_remove)))


if __name__ == '__main__':
    main()
