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
  - With O(gate_credentials), each file also carries that user's credentials for the Livy gate
    (C(auth=Basic_Access), the user name, and a JupyterHub API token owned by the user as the
    password) in every C(kernel_*_credentials) of O(config), and the token's id and expiry under the
    key C(datalake_notebooks_gate), which sparkmagic ignores. A token is made through the hub's API
    only for users whose file has none, or whose token expires within
    O(gate_credentials.renew_before) seconds; the token it replaces is then revoked. A re-run with
    valid tokens makes no hub call. Tokens never appear in results, diffs or logs.
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
      - With O(container), the host path of the directory the container sees as
        O(container_home_base) (on EMR, V(/var/lib/jupyter/home) is the C(jupyterhub) container's C(/home)).
    type: path
    default: /home
  container:
    description:
      - The users are accounts of this running container (the hub's, C(jupyterhub) on EMR), not of
        this host. Their uid and gid are read from the container's account database (one
        O(container_cli) C(exec) running C(getent passwd)), and each file is written on this host under
        O(home_base) with those ids, so the user owns it inside the container.
      - A user whose home in the container is not O(container_home_base)/USER is refused (their
        notebook would not read the file written under O(home_base)).
    type: str
  container_cli:
    description: The container engine's command.
    type: path
    default: docker
  container_home_base:
    description: The parent of the users' homes as the container sees it (its mount of O(home_base)).
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
        from this host's account database, or with O(container) from the container's). The user's home
        must then belong to the user.
      - When V(false), new files belong to the user the module runs as.
    type: bool
    default: true
  backup:
    description:
      - Keep a copy of a user's previous C(config.json), named with a timestamp, before replacing it.
      - A backup holds the previous token; it is written with mode C(0600) and owned by the user.
    type: bool
    default: false
  gate_credentials:
    description:
      - Per-user credentials for the Livy gate, made through JupyterHub's token API. Omit for a
        Livy without the gate.
    type: dict
    suboptions:
      hub_url:
        description: The hub's base URL (C(/hub/api) is added).
        type: str
        required: true
      api_token:
        description:
          - A hub API token with the C(tokens) scope on the notebook users (for example a service
            whose role has C(tokens)); it makes and revokes the users' tokens.
        type: str
        required: true
      validate_certs:
        description: Verify the hub's TLS certificate.
        type: bool
        default: true
      ca_path:
        description: CA bundle that verifies the hub's certificate.
        type: path
      timeout:
        description: Seconds to wait for each hub request.
        type: int
        default: 30
      token_lifetime:
        description:
          - Seconds a new token is valid (C(expires_in)). The hub's C(token_expires_in_max_seconds),
            when set, must allow it.
        type: int
        default: 2592000
      renew_before:
        description:
          - A token that expires within this many seconds is replaced by a new one. Run the role more
            often than O(gate_credentials.token_lifetime) minus this margin.
        type: int
        default: 604800
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

- name: Each notebook user reaches Livy through the gate with a token of their own
  datalake.notebooks.sparkmagic_config:
    users: [shirley, diego]
    config:
      kernel_python_credentials: {url: "http://master-1.example.internal:8998"}
      session_configs: {}
    gate_credentials:
      hub_url: https://hub.example.internal
      api_token: "{{ vault_hub_tokens_token }}"
"""

RETURN = r"""
changed_users:
  description: Users whose file or directory was (in check mode, would be) written or corrected.
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
new_tokens:
  description:
    - Users for whom a hub token was (in check mode, would be) made, because their file had none or
      theirs expired within O(gate_credentials.renew_before). The tokens themselves are never returned.
  returned: when O(gate_credentials) is set
  type: list
  elements: str
  sample: [diego]
backup_files:
  description: Backup copies made, by user.
  returned: when O(backup=true) and a file was replaced
  type: dict
  sample:
    diego: /home/diego/.sparkmagic/config.json.4242.2026-12-01@20:15:00~
diff:
  description: In diff mode, the text of each changed user's file before and after; tokens are masked.
  returned: in diff mode
  type: list
  elements: dict
"""

import copy
import datetime
import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.urls import open_url

from ansible_collections.datalake.notebooks.plugins.module_utils import _accounts, _hubtokens, _userfiles
from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    invalid_users,
)


def user_document(config, user):
    """`config` with proxyUser pinned to `user`."""
    document = copy.deepcopy(config)
    sessions = document.get('session_configs')
    document['session_configs'] = dict(sessions) if isinstance(sessions, dict) else {}
    document['session_configs']['proxyUser'] = user
    return document


def to_bytes(document):
    return (json.dumps(document, indent=2, sort_keys=True, separators=(',', ': ')) + '\n').encode('utf-8')


def render(config, user):
    """The config.json text of one user: `config` with proxyUser pinned to that user."""
    return to_bytes(user_document(config, user))


def parse_existing(content):
    try:
        return json.loads(content.decode('utf-8')) if content else None
    except (UnicodeDecodeError, ValueError):
        return None


class Tokens:
    """The gate credentials of each user's file: kept while valid, made (and the old one revoked) else."""

    def __init__(self, module, settings):
        self.module = module
        self.settings = settings

        def opener(method, url, data, headers, timeout):
            response = open_url(url, data=data, headers=headers, method=method, timeout=timeout,
                                validate_certs=settings['validate_certs'], ca_path=settings['ca_path'],
                                follow_redirects='none', use_proxy=False)
            return response.read()

        self.hub = _hubtokens.HubTokens(settings['hub_url'], settings['api_token'], opener, settings['timeout'])
        self.now = datetime.datetime.now(datetime.timezone.utc)
        self.made = []

    def secret(self, token):
        if token and token != _hubtokens.MASK:
            self.module.no_log_values.add(token)
        return token

    def credentials(self, user, existing):
        """(token, id, expires_at, made, old id) for `user`'s file, given its current parsed content."""
        token, token_id, expires = _hubtokens.current_token(existing, user)
        self.secret(token)
        if not _hubtokens.needs_new_token(existing, user, self.now, self.settings['renew_before']):
            return token, token_id, expires.isoformat().replace('+00:00', 'Z'), False, None
        self.made.append(user)
        if self.module.check_mode:
            return _hubtokens.MASK, None, None, True, token_id
        new_token, new_id, expires_at = self.hub.create(user, self.settings['token_lifetime'])
        return self.secret(new_token), new_id, expires_at, True, token_id

    def revoke(self, user, token_id, why):
        if not token_id:
            return
        try:
            self.hub.revoke(user, token_id)
        except _hubtokens.HubTokenError as exc:
            self.module.warn('Could not revoke %s token %s of %s (%s): %s' % (why, token_id, user, why, exc))


def main():
    module = AnsibleModule(
        argument_spec=dict(
            users=dict(type='list', elements='str', required=True),
            home_base=dict(type='path', default='/home'),
            container=dict(type='str'),
            container_cli=dict(type='path', default='docker'),
            container_home_base=dict(type='path', default='/home'),
            config=dict(type='dict', required=True),
            set_owner=dict(type='bool', default=True),
            backup=dict(type='bool', default=False),
            gate_credentials=dict(type='dict', options=dict(
                hub_url=dict(type='str', required=True),
                api_token=dict(type='str', required=True, no_log=True),
                validate_certs=dict(type='bool', default=True),
                ca_path=dict(type='path'),
                timeout=dict(type='int', default=30),
                token_lifetime=dict(type='int', default=2592000, no_log=False),
                renew_before=dict(type='int', default=604800),
            )),
        ),
        supports_check_mode=True,
    )
    users = sorted(set(module.params['users']))
    base = module.params['home_base']
    result = dict(changed=False, changed_users=[], refused=[], missing_homes=[])
    gate = module.params['gate_credentials']
    tokens = None
    if gate:
        if not gate['hub_url'].startswith(('http://', 'https://')):
            module.fail_json(msg='gate_credentials.hub_url must be an http:// or https:// URL, not %r.' % gate['hub_url'])
        if gate['timeout'] <= 0:
            module.fail_json(msg='gate_credentials.timeout must be a positive number of seconds, not %d.' % gate['timeout'])
        if not 0 < gate['renew_before'] < gate['token_lifetime']:
            module.fail_json(msg='gate_credentials.renew_before (%d) must be positive and below token_lifetime (%d),'
                                 ' or every run would make new tokens.' % (gate['renew_before'], gate['token_lifetime']))
        tokens = Tokens(module, gate)
        result['new_tokens'] = tokens.made

    problems = invalid_names(users)
    if problems:
        module.fail_json(msg=describe_invalid_names('users', problems), invalid_users=invalid_users(problems), **result)
    container = module.params['container']
    owners = {}
    if container is not None:
        problem = _accounts.container_name_problem(container)
        if problem:
            module.fail_json(msg='container %r %s.' % (container, problem), **result)
        try:
            accounts = _accounts.container_accounts(module.run_command, module.params['container_cli'], container)
        except _accounts.ContainerError as exc:
            module.fail_json(msg=str(exc), **result)
        known = [user for user in users if user in accounts]
        if module.params['set_owner']:
            owners = dict((user, accounts[user].owner) for user in known)
        for user in known:
            expected = os.path.normpath(os.path.join(module.params['container_home_base'], user))
            if os.path.normpath(accounts[user].home) != expected:
                # The notebook reads ~/.sparkmagic from the home its passwd entry names.
                reason = 'is not the home of %s in container %s (%s is)' % (user, container, accounts[user].home)
                result['refused'].append(dict(user=user, path=os.path.join(base, user), reason=reason))
                module.warn('%s: %s %s; nothing was written for %s.' % (user, os.path.join(base, user), reason, user))
        where = 'in container %s' % container
    elif module.params['set_owner']:
        owners = _accounts.host_owners(users)
        where = 'on this host'
    if module.params['set_owner']:
        unknown = [user for user in users if user not in owners]
        if unknown:
            module.fail_json(msg='No OS account for %s %s, so their config.json cannot be owned by them:'
                                 ' create the accounts first, or set set_owner: false.' % (', '.join(unknown), where),
                             users=unknown, **result)
    users = [user for user in users if user not in set(entry['user'] for entry in result['refused'])]

    diffs = []
    backups = {}
    for user in users:
        made = None
        secrets = []
        try:
            content = render(module.params['config'], user)
            if tokens is not None:
                # Read first, through the same checks as the write: a refused or missing home gets no token.
                existing = parse_existing(_userfiles.read_user_file(base, user, '.sparkmagic', 'config.json',
                                                                    owner=owners.get(user)))
                try:
                    token, token_id, expires_at, is_new, old_id = tokens.credentials(user, existing)
                except _hubtokens.HubTokenError as exc:
                    module.fail_json(msg='Cannot make the Livy gate token of %s: %s.' % (user, exc), **result)
                secrets = [token, _hubtokens.current_token(existing, user)[0]]
                if is_new and not module.check_mode:
                    made = (token_id, old_id)
                content = to_bytes(_hubtokens.with_credentials(user_document(module.params['config'], user), user,
                                                               token, token_id, expires_at))
            outcome = _userfiles.write_user_file(
                base, user, '.sparkmagic', 'config.json', content,
                owner=owners.get(user), backup=module.params['backup'], check_mode=module.check_mode)
        except _userfiles.MissingHome:
            result['missing_homes'].append(user)
            continue
        except _userfiles.Refused as exc:
            if made:
                tokens.revoke(user, made[0], 'the unused new')
            result['refused'].append(dict(user=exc.user, path=exc.path, reason=exc.reason))
            module.warn(str(exc))
            continue
        except OSError as exc:
            if made:
                tokens.revoke(user, made[0], 'the unused new')
            module.fail_json(msg='Cannot write the sparkmagic config of %s under %s: %s.'
                                 % (user, base, exc.strerror or exc), **result)
        if made:
            # The file now holds the new token: the one it replaces stops working.
            tokens.revoke(user, made[1], 'the replaced')
        if outcome.changed:
            result['changed_users'].append(user)
            if outcome.backup_file:
                backups[user] = outcome.backup_file
            if module._diff:
                diffs.append(dict(
                    before_header=outcome.path if outcome.before is not None else '%s (absent)' % outcome.path,
                    after_header=outcome.path,
                    before=_hubtokens.masked(to_text(outcome.before or b'', errors='surrogate_or_replace'), secrets),
                    after=_hubtokens.masked(to_text(outcome.after, errors='surrogate_or_replace'), secrets)))
    result['changed'] = bool(result['changed_users'])
    if backups:
        result['backup_files'] = backups
    if module._diff:
        result['diff'] = diffs
    module.exit_json(**result)


if __name__ == '__main__':
    main()
