#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: jupyterhub_users
short_description: List, create and remove JupyterHub users through the hub's REST API
version_added: 0.1.0
description:
  - Reads every user of a JupyterHub (following the API's pagination, so hubs with thousands of users
    come back whole) and, when O(users) is given, creates the missing ones in one request or removes them.
  - The listing ends at the hub's last page, at an empty page, or once C(_pagination.total) users are
    covered; a hub that keeps announcing further pages fails the task after 1000 pages (200,000 users
    at the hub's default C(api_page_max_limit) of 200) instead of looping.
  - Authenticates with an API token. The C(POST /hub/api/authorizations/token) user name and password
    exchange of the EMR procedure was removed in JupyterHub 2.0 and is not used.
  - User names are checked before the hub is asked anything, because they later become HDFS home
    directories and Hadoop proxy-user entries.
  - Runs on the host that can reach the hub (often the hub's own host, or C(localhost) with
    C(delegate_to)); needs the C(requests) Python library there.
extends_documentation_fragment:
  - datalake.notebooks.jupyterhub
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  users:
    description:
      - Names of the users to make present or absent.
      - If omitted, the module only reads and returns the hub's users (C(changed) is always false).
      - Names must not be empty, C(.) or C(..), nor contain C(/), C(,), whitespace or control
        characters; every offending name is reported at once.
    type: list
    elements: str
  state:
    description:
      - V(present) creates the O(users) that the hub does not have.
      - V(absent) removes the O(users) that the hub has. The hub stops a removed user's running
        servers first.
    type: str
    choices: [present, absent]
    default: present
  admin:
    description:
      - Make the users this task creates hub admins. Users that exist already are left as they are.
      - The hub only lets a hub admin's token create admin users; C(admin:users) is not enough.
    type: bool
    default: false
  exclusive:
    description:
      - With O(state=present), also remove every hub user that is not in O(users).
      - Hub admins are never removed this way, so that the people who run the hub keep their access;
        they are returned in RV(kept_admins). Remove an admin by naming it with O(state=absent).
      - Requires O(users) (an empty list removes every user that is not an admin).
    type: bool
    default: false
notes:
  - The token needs the scope C(list:users) to read and C(admin:users) to create or remove users; a
    service defined in C(c.JupyterHub.services) with a role from C(c.JupyterHub.load_roles) is the usual way.
  - The hub's authenticator may normalize names (the default one lowercases them); the module fails
    when the hub created a user under another name than the one asked for.
  - Hub users whose names the module would reject (a hub accepts names with spaces, for example) are
    still listed in RV(users), reported in RV(invalid_users), and warned about.
seealso:
  - name: JupyterHub REST API
    description: The API this module uses (C(GET /users) with pagination, C(POST /users), C(DELETE /users/{name})).
    link: https://jupyterhub.readthedocs.io/en/stable/reference/rest-api.html
author:
  - datalake.notebooks maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The notebook users exist in JupyterHub
  datalake.notebooks.jupyterhub_users:
    url: https://master:9443
    api_token: "{{ vault_jupyterhub_token }}"
    ca_path: /etc/jupyter/conf/ca.pem
    users: [alice, bob]

- name: JupyterHub has exactly these users (admins excepted)
  datalake.notebooks.jupyterhub_users:
    url: https://master:9443
    api_token: "{{ vault_jupyterhub_token }}"
    users: "{{ notebook_users }}"
    exclusive: true

- name: Former users are gone from JupyterHub
  datalake.notebooks.jupyterhub_users:
    url: https://master:9443
    api_token: "{{ vault_jupyterhub_token }}"
    users: [carol]
    state: absent

- name: Read the hub's users (a token with list:users is enough)
  datalake.notebooks.jupyterhub_users:
    url: https://master:9443
    api_token: "{{ vault_jupyterhub_read_token }}"
  register: hub

- name: Each hub user has an HDFS home directory
  ansible.builtin.debug:
    msg: "/user/{{ item }}"
  loop: "{{ hub.users }}"
"""

RETURN = r"""
users:
  description: Sorted names of all hub users after the task (in check mode, as they would be).
  returned: always
  type: list
  elements: str
  sample: [alice, bob, hubadmin]
created:
  description: Users the task created (in check mode, would create), sorted.
  returned: always
  type: list
  elements: str
  sample: [bob]
removed:
  description: Users the task removed (in check mode, would remove), sorted.
  returned: always
  type: list
  elements: str
  sample: [carol]
kept_admins:
  description: Hub admins that O(exclusive) would have removed but left in place.
  returned: always
  type: list
  elements: str
  sample: [hubadmin]
invalid_users:
  description:
    - Hub users whose names cannot become HDFS paths or proxy-user entries, with the reason.
    - When O(users) itself holds such names, those, and the task fails before any hub request.
  returned: always
  type: list
  elements: dict
  sample: [{name: "jane doe", reason: contains whitespace}]
hub_version:
  description: The JupyterHub version that answered.
  returned: always
  type: str
  sample: 6.1.1
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake.notebooks.plugins.module_utils._jupyterhub import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    HubClient,
    HubError,
    HubUsersError,
    ensure_users,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    invalid_users,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._option_specs import JUPYTERHUB_ARGS


def argument_spec():
    return dict(
        JUPYTERHUB_ARGS,
        users=dict(type='list', elements='str'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        admin=dict(type='bool', default=False),
        exclusive=dict(type='bool', default=False),
    )


def user_list_text(names):
    return ''.join('%s\n' % name for name in names)


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params

    if not HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib('requests'), exception=REQUESTS_IMPORT_ERROR)
    if not params['api_token']:
        module.fail_json(msg='No API token: set api_token, or JUPYTERHUB_API_TOKEN in the environment of '
                             'the task (a token whose role grants list:users to read, admin:users to change).')
    wanted = params['users']
    if params['exclusive'] and wanted is None:
        module.fail_json(msg='exclusive=true needs users: the list of users to keep.')
    if params['exclusive'] and params['state'] == 'absent':
        module.fail_json(msg='exclusive=true only applies to state=present.')
    if wanted is not None:
        problems = invalid_names(wanted)
        if problems:
            module.fail_json(msg=describe_invalid_names('users', problems), invalid_users=invalid_users(problems))

    try:
        client = HubClient(params['url'], params['api_token'], validate_certs=params['validate_certs'],
                           ca_path=params['ca_path'], timeout=params['timeout'])
    except HubError as exc:
        module.fail_json(msg=exc.message)
    try:
        result = ensure_users(client, wanted, state=params['state'], admin=params['admin'],
                              exclusive=params['exclusive'], check_mode=module.check_mode)
    except HubUsersError as exc:
        exc.result.pop('before', None)
        module.fail_json(msg=exc.message, **dict(exc.result, **exc.context()))
    except HubError as exc:
        module.fail_json(msg=exc.message, **exc.context())
    finally:
        client.close()

    before = result.pop('before')
    problems = invalid_names(result['users'])
    result['invalid_users'] = invalid_users(problems)
    if problems:
        module.warn('JupyterHub has users whose names cannot become HDFS paths or proxy-user entries: %s'
                    % '; '.join('%r %s' % problem for problem in problems))
    if module._diff and result['changed']:
        result['diff'] = dict(before=user_list_text(before), after=user_list_text(result['users']),
                              before_header='%s users' % params['url'], after_header='%s users' % params['url'])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
