#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: os_users
short_description: Make the notebook users' OS accounts exist, all in one call
version_added: 0.2.0
description:
  - Creates the OS accounts that PAM-authenticated JupyterHub needs for its users, on this host or inside
    a container (EMR runs JupyterHub in a container named C(jupyterhub)).
  - Reads the account database once, and creates only the missing accounts with C(useradd), all in one
    process (on the host) or one C(docker exec) (in a container). A run with nothing missing runs no
    command at all, so it costs the same for 10 or 10,000 users.
  - Existing accounts are left exactly as they are. Accounts are never removed.
  - Passwords are not this module's business. New accounts have a locked password; the hub's
    authenticator (or the operator) decides how users log in.
author:
  - datalake.notebooks maintainers (!UNKNOWN)
extends_documentation_fragment:
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  users:
    description:
      - The account names. Names are checked like every user name of the collection (no C(/), C(:),
        whitespace, C(*) or leading C(-)); an invalid name fails the task before any account is made.
    type: list
    elements: str
    required: true
  container:
    description:
      - Make the accounts inside this running container instead of on the host, with
        O(container_cli) C(exec). The container's account database is read once with
        C(getent passwd); a line of it that is not a passwd(5) entry fails the task.
    type: str
  container_cli:
    description:
      - The container engine's command.
    type: path
    default: docker
  shell:
    description: Login shell of new accounts.
    type: path
    default: /bin/bash
  create_home:
    description: Create the home directory of a new account (C(useradd --create-home)).
    type: bool
    default: true
  home_base:
    description:
      - Parent of new home directories (C(useradd --base-dir)), as the host or container sees it.
        Default is C(useradd)'s own (C(/home)).
    type: path
  user_group:
    description:
      - Give each new account a group of its own name (C(useradd --user-group)). When V(false), new
        accounts get C(useradd)'s default group (C(-N), as in the EMR guide).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The hub's users exist as OS users inside EMR's JupyterHub container
  datalake.notebooks.os_users:
    users: [shirley, diego]
    container: jupyterhub
    user_group: false
"""

RETURN = r"""
created:
  description: The accounts created (in check mode, that would be created).
  returned: always
  type: list
  elements: str
  sample: [diego]
invalid_users:
  description: The names of O(users) that are not valid user names, with the reason; the task then fails before it changes anything.
  returned: failure
  type: list
  elements: dict
  sample: [{name: "jane doe", reason: contains whitespace}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake.notebooks.plugins.module_utils import _accounts
from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    invalid_users,
)


def container_owners(module, users):
    """{user: Account} for the users the container's account database knows (one exec)."""
    try:
        known = _accounts.container_accounts(module.run_command, module.params['container_cli'],
                                             module.params['container'])
    except _accounts.ContainerError as exc:
        module.fail_json(msg=str(exc), created=[])
    return dict((user, known[user]) for user in users if user in known)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type='list', elements='str', required=True),
            container=dict(type='str'),
            container_cli=dict(type='path', default='docker'),
            shell=dict(type='path', default='/bin/bash'),
            create_home=dict(type='bool', default=True),
            home_base=dict(type='path'),
            user_group=dict(type='bool', default=True),
        ),
        supports_check_mode=True,
    )
    users = sorted(set(module.params['users']))
    problems = invalid_names(users)
    if problems:
        module.fail_json(msg=describe_invalid_names('users', problems), created=[], invalid_users=invalid_users(problems))
    container = module.params['container']
    if container is not None:
        problem = _accounts.container_name_problem(container)
        if problem:
            module.fail_json(msg='container %r %s.' % (container, problem), created=[])
    existing = container_owners(module, users) if container else _accounts.host_owners(users)
    missing = [user for user in users if user not in existing]
    result = dict(changed=bool(missing), created=missing)
    if module._diff:
        result['diff'] = dict(before_header='accounts', after_header='accounts', before='',
                              after=''.join('%s\n' % user for user in missing))
    if not missing or module.check_mode:
        module.exit_json(**result)

    options = dict(shell=module.params['shell'], create_home=module.params['create_home'],
                   home_base=module.params['home_base'], user_group=module.params['user_group'])
    if container:
        cli = module.params['container_cli']
        rc, out, err = module.run_command([cli, 'exec', '-i', container, 'sh', '-s'],
                                          data=_accounts.useradd_script(missing, **options), binary_data=True)
        if rc != 0:
            made = sorted(set(container_owners(module, missing)))
            module.fail_json(msg='Creating accounts in container %s failed (exit %d): %s' % (
                container, rc, err.strip() or out.strip()), created=made)
    else:
        for number, user in enumerate(missing):
            rc, out, err = module.run_command(_accounts.useradd_argv(user, **options))
            if rc != 0:
                module.fail_json(msg='useradd %s failed (exit %d): %s' % (user, rc, err.strip() or out.strip()),
                                 created=missing[:number])
    module.exit_json(**result)


if __name__ == '__main__':
    main()
