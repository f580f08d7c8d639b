#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: sparkmagic_config
short_description: Write every notebook user's sparkmagic config.json, with proxyUser set to that user
version_added: 0.2.0
description:
  - Writes C(HOME_BASE/USER/.sparkmagic/config.json) for many users in one call. Each file is O(config)
    with C(session_configs.proxyUser) set to the file's user, so every Spark session that user's
    sparkmagic kernel creates through Livy runs as that user. Upstream sparkmagic never sends
    C(proxyUser) by itself.
  - The module runs as root inside directories the users own, so it trusts nothing there. Each path
    below O(home_base) is opened without following symbolic links and checked on the opened
    descriptor. A home, C(.sparkmagic) or C(config.json) that is a symbolic link, not of the
    expected type, or owned by another user is refused for that user (listed in RV(refused), with a
    warning) and left as it is; the other users are still written.
  - A file is replaced by renaming a new file over it, created with its final mode and owner, never
    rewritten in place. A hard link to another file is therefore never written through.
  - A user whose home does not exist yet is listed in RV(missing_homes) and skipped; the module does
    not create home directories.
author:
  - datalake.notebooks maintainers (!UNKNOWN)
extends_documentation_fragment:
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  users:
    description:
      - The notebook users. Names are checked like every user name of the collection (no C(/), no
        whitespace, no C(*), no leading C(-)); an invalid name fails the task before anything is written.
    type: list
    elements: str
    required: true
  home_base:
    description:
      - The directory that holds the users' home directories, as this host sees it.
    type: path
    default: /home
  config:
    description:
      - The sparkmagic configuration every user gets, as a dictionary. C(session_configs.proxyUser) is
        always set to the user, whatever O(config) says.
    type: dict
    required: true
  set_owner:
    description:
      - Make each user own their C(.sparkmagic) directory and C(config.json) (user and primary group
        from this host's account database). The user's home must then belong to the user.
      - When V(false), new files belong to the user the module runs as.
    type: bool
    default: true
  backup:
    description:
      - Keep a copy of a user's previous C(config.json), named with a timestamp, before replacing it.
    type: bool
    default: false
notes:
  - C(.sparkmagic) gets mode C(0700) and C(config.json) mode C(0600); both are corrected when they differ.
  - Files are written as sorted JSON with two-space indentation and a final newline.
seealso:
  - name: sparkmagic example configuration
    description: The keys sparkmagic reads from config.json.
    link: https://github.com/jupyter-incubator/sparkmagic/blob/master/sparkmagic/example_config.json
"""

EXAMPLES = r"""
- name: Each notebook user's sparkmagic sessions run as that user
  datalake.notebooks.sparkmagic_config:
    users: [shirley, diego]
    config:
      kernel_python_credentials: {url: "http://master-1.example.internal:8998", auth: None, username: "", password: ""}
      kernel_scala_credentials: {url: "http://master-1.example.internal:8998", auth: None, username: "", password: ""}
      session_configs: {driverMemory: 2g}
      livy_session_startup_timeout_seconds: 120
"""

RETURN = r"""
changed_users:
  description: Users whose file or directory was (in check mode, would be) written or corrected.
  returned: always
  type: list
  elements: str
  sample: [diego]
refused:
  description: Users whose path was not touched, with the path and the reason.
  returned: always
  type: list
  elements: dict
  contains:
    user:
      description: The user.
      type: str
    path:
      description: The path that was refused.
      type: str
    reason:
      description: Why it was refused.
      type: str
  sample:
    - user: mallory
      path: /home/mallory/.sparkmagic
      reason: is a symbolic link
missing_homes:
  description: Users whose home directory does not exist under O(home_base); nothing was written for them.
  returned: always
  type: list
  elements: str
  sample: [newcomer]
backup_files:
  description: Backup copies made, by user.
  returned: when O(backup=true) and a file was replaced
  type: dict
  sample:
    diego: /home/diego/.sparkmagic/config.json.4242.2026-12-01@20:15:00~
diff:
  description: In diff mode, the text of each changed user's file before and after.
  returned: in diff mode
  type: list
  elements: dict
"""

import copy
import json

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.datalake.notebooks.plugins.module_utils import _userfiles
from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
)


def render(config, user):
    """The config.json text of one user: `config` with proxyUser pinned to that user."""
    document = copy.deepcopy(config)
    sessions = document.get('session_configs')
    document['session_configs'] = dict(sessions) if isinstance(sessions, dict) else {}
    document['session_configs']['proxyUser'] = user
    return (json.dumps(document, indent=2, sort_keys=True, separators=(',', ': ')) + '\n').encode('utf-8')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type='list', elements='str', required=True),
            home_base=dict(type='path', default='/home'),
            config=dict(type='dict', required=True),
            set_owner=dict(type='bool', default=True),
            backup=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    users = sorted(set(module.params['users']))
    base = module.params['home_base']
    result = dict(changed=False, changed_users=[], refused=[], missing_homes=[])

    problems = invalid_names(users)
    if problems:
        module.fail_json(msg=describe_invalid_names('users', problems), **result)
    owners = {}
    if module.params['set_owner']:
        owners = _userfiles.os_owners(users)
        unknown = [user for user in users if user not in owners]
        if unknown:
            module.fail_json(msg='No OS account for %s on this host, so their config.json cannot be owned by them:'
                                 ' create the accounts first, or set set_owner: false.' % ', '.join(unknown),
                             users=unknown, **result)

    diffs = []
    backups = {}
    for user in users:
        try:
            outcome = _userfiles.write_user_file(
                base, user, '.sparkmagic', 'config.json', render(module.params['config'], user),
                owner=owners.get(user), backup=module.params['backup'], check_mode=module.check_mode)
        except _userfiles.MissingHome:
            result['missing_homes'].append(user)
            continue
        except _userfiles.Refused as exc:
            result['refused'].append(dict(user=exc.user, path=exc.path, reason=exc.reason))
            module.warn(str(exc))
            continue
        except OSError as exc:
            module.fail_json(msg='Cannot write the sparkmagic config of %s under %s: %s.'
                                 % (user, base, exc.strerror or exc), **result)
        if outcome.changed:
            result['changed_users'].append(user)
            if outcome.backup_file:
                backups[user] = outcome.backup_file
            if module._diff:
                diffs.append(dict(
                    before_header=outcome.path if outcome.before is not None else '%s (absent)' % outcome.path,
                    after_header=outcome.path,
                    before=to_text(outcome.before or b'', errors='surrogate_or_replace'),
                    after=to_text(outcome.after, errors='surrogate_or_replace')))
    result['changed'] = bool(result['changed_users'])
    if backups:
        result['backup_files'] = backups
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
