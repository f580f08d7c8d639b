"""Real JupyterHub servers for the integration tests, started by tests/rigs/jupyterhub/start.

Session-scoped: `jupyterhub` (plain HTTP) and `jupyterhub_tls` (HTTPS, certificate signed by a CA
made for the run; `ca` is its PEM file). Each is stopped by a finalizer, also when tests fail.
A hub that cannot start fails the tests that need it, with the tail of its log: never a skip.

`Hub.api(...)` talks to the hub's REST API directly, so tests check the module's outcome with a
client of their own, and can set up many users quickly.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests

import rigs

PAGINATION = 'application/jupyterhub-pagination+json'


def _read(path):
    with open(path) as handle:
        return handle.read().strip()


@dataclass
class Hub:
    url: str
    admin_token: str       # role with admin:users only
    readonly_token: str    # role with list:users only
    superuser_token: str   # a hub admin (can create admin users)
    ca: str | None
    run_dir: str
    log: str

    @property
    def tokens(self):
        return [self.admin_token, self.readonly_token, self.superuser_token]

    def api(self, method, path, token=None, **kwargs):
        """One REST call to /hub/api + path; raises for an HTTP error."""
        headers = dict(kwargs.pop('headers', {}))
        headers['Authorization'] = 'token %s' % (token or self.admin_token)
        response = requests.request(method, self.url + '/hub/api' + path, headers=headers,
                                    verify=self.ca or True, timeout=60, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def user_models(self):
        """{name: model} of every user, page by page."""
        users, offset = {}, 0
        while offset is not None:
            page = self.api('GET', '/users?offset=%d&limit=200' % offset, headers={'Accept': PAGINATION})
            users.update((item['name'], item) for item in page['items'])
            following = page['_pagination']['next']
            offset = following['offset'] if following else None
        return users

    def user_names(self):
        return sorted(self.user_models())

    def create_users(self, names, admin=False):
        missing = sorted(set(names) - set(self.user_models()))
        if missing:
            body = {'usernames': missing, 'admin': admin}
            token = self.superuser_token if admin else self.admin_token
            self.api('POST', '/users', token=token, json=body)

    def delete_users(self, names):
        existing = set(self.user_models())
        for name in names:
            if name in existing:
                self.api('DELETE', '/users/' + quote(name, safe=''))

    def log_tail(self, lines=40):
        return rigs.log_tail(self.log, lines=lines)


def hub_from_env(run_dir, env):
    """The Hub that a hub rig's rig.env describes."""
    return Hub(
        url=env['JUPYTERHUB_URL'],
        admin_token=_read(env['JUPYTERHUB_ADMIN_TOKEN_FILE']),
        readonly_token=_read(env['JUPYTERHUB_READONLY_TOKEN_FILE']),
        superuser_token=_read(env['JUPYTERHUB_SUPERUSER_TOKEN_FILE']),
        ca=env.get('JUPYTERHUB_CA') or None,
        run_dir=str(run_dir),
        log=env['JUPYTERHUB_LOG'],
    )


def _start_hub(request, tmp_path_factory, name, *options):
    """A hub (tests/rigs/jupyterhub/start OPTIONS) in a new temp dir, stopped when `request`'s
    scope ends; a hub that cannot start fails the test with start's output and hub.log's tail."""
    run_dir = str(tmp_path_factory.mktemp(name))
    # Registered before the start, so a half-started hub is stopped too.
    request.addfinalizer(lambda: rigs.stop('jupyterhub', run_dir))
    try:
        run = rigs.start('jupyterhub', run_dir, *options, timeout=600)
    except rigs.RigError as exc:
        pytest.fail('JupyterHub (%s) did not start: %s' % (name, exc), pytrace=False)
    return hub_from_env(run_dir, run.env)


@pytest.fixture(scope='session')
def jupyterhub(request, tmp_path_factory):
    """A hub on http://127.0.0.1:<free port>."""
    return _start_hub(request, tmp_path_factory, 'jupyterhub')


@pytest.fixture(scope='session')
def jupyterhub_tls(request, tmp_path_factory):
    """A hub on https://127.0.0.1:<free port>; `ca` is the CA file that verifies it."""
    return _start_hub(request, tmp_path_factory, 'jupyterhub-tls', '--tls')
