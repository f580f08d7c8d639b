"""Real JupyterHub servers for the integration tests, started by tests/rigs/jupyterhub/start.

Session-scoped: `jupyterhub` (plain HTTP) and `jupyterhub_tls` (HTTPS, certificate signed by a CA
made for the run; `ca` is its PEM file). Each is stopped by a finalizer, also when tests fail.
A hub that cannot start fails the tests that need it, with the tail of its log: never a skip.

`Hub.api(...)` talks to the hub's REST API directly, so tests check the module's outcome with a
client of their own, and can set up many users quickly.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from urllib.parse import quote

import pytest
import requests

RIG = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', 'rigs', 'jupyterhub'))
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
        try:
            with open(self.log, errors='replace') as handle:
                return ''.join(handle.readlines()[-lines:])
        except OSError as exc:
            return '(no log: %s)' % exc


def _start_hub(request, tmp_path_factory, name, *args):
    run_dir = str(tmp_path_factory.mktemp(name))
    # Registered before the start, so a half-started hub is stopped too.
    request.addfinalizer(lambda: subprocess.run([os.path.join(RIG, 'stop'), run_dir], check=False))
    proc = subprocess.run([os.path.join(RIG, 'start'), run_dir] + list(args),
                          capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        log = os.path.join(run_dir, 'hub.log')
        tail = ''
        if os.path.exists(log):
            with open(log, errors='replace') as handle:
                tail = ''.join(handle.readlines()[-40:])
        pytest.fail('JupyterHub (%s) did not start (exit %s).\n--- start output:\n%s%s\n--- hub.log tail:\n%s'
                    % (name, proc.returncode, proc.stdout, proc.stderr, tail), pytrace=False)
    env = dict(line.split('=', 1) for line in _read(os.path.join(run_dir, 'hub.env')).splitlines() if '=' in line)
    return Hub(
        url=env['JUPYTERHUB_URL'],
        admin_token=_read(env['JUPYTERHUB_ADMIN_TOKEN_FILE']),
        readonly_token=_read(env['JUPYTERHUB_READONLY_TOKEN_FILE']),
        superuser_token=_read(env['JUPYTERHUB_SUPERUSER_TOKEN_FILE']),
        ca=env.get('JUPYTERHUB_CA') or None,
        run_dir=run_dir,
        log=env['JUPYTERHUB_LOG'],
    )


@pytest.fixture(scope='session')
def jupyterhub(request, tmp_path_factory):
    """A hub on http://127.0.0.1:<free port>."""
    return _start_hub(request, tmp_path_factory, 'jupyterhub')


@pytest.fixture(scope='session')
def jupyterhub_tls(request, tmp_path_factory):
    """A hub on https://127.0.0.1:<free port>; `ca` is the CA file that verifies it."""
    return _start_hub(request, tmp_path_factory, 'jupyterhub-tls', '--tls')
