"""The Livy gate (roles/livy_impersonation/files/livy_gate.py) in front of the real Livy rig.

`gated_livy` (module scope) turns the shared rigs into a gated cluster for one test module: Livy impersonates
(livy.impersonation.enabled), HDFS and YARN let livy act for the gate's notebook users, the users
exist in the real hub with tokens made through the hub's token API, and a gate process listens on
loopback in front of Livy. Everything it changed is put back at the end (livy.conf, core-site.xml,
hub users), whatever happened.

`start_gate(run_dir, **settings)` starts further gate processes (a hub that is down, a slow Livy),
each stopped by the test that started it.

Livy 0.7.1 from Maven Central has no REPL jars, and refuses POST /sessions without them ("Cannot
find Livy REPL jars"). The fixture points livy.repl.jars at one of Livy's own jars: Livy then
creates real session objects (id, proxyUser, state) and submits them; the driver fails without the
interpreter and the session goes dead within seconds, without a YARN application.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import quote

import pytest
import requests

import rigs
from rigs import free_port

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
GATE_PY = os.path.join(REPO_ROOT, 'roles', 'livy_impersonation', 'files', 'livy_gate.py')
CLIENT_PY = os.path.join(os.path.dirname(__file__), 'files', 'notebook_gate_client.py')
USERS = ('shirley', 'diego')


@dataclass
class GateProcess:
    url: str
    config_path: str
    log_path: str
    proc: subprocess.Popen

    def log(self):
        with open(self.log_path, errors='replace') as handle:
            return handle.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_gate(run_dir, **settings):
    """A gate process with these settings (listen_port defaults to a free loopback port)."""
    os.makedirs(run_dir, exist_ok=True)
    config = dict({'listen_host': '127.0.0.1', 'listen_port': free_port()}, **settings)
    name = 'gate-%d' % config['listen_port']
    config_path = os.path.join(run_dir, name + '.json')
    log_path = os.path.join(run_dir, name + '.log')
    with open(config_path, 'w') as handle:
        json.dump(config, handle)
    log = open(log_path, 'w')
    proc = subprocess.Popen([sys.executable, GATE_PY, '--config', config_path], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    scheme = 'https' if config.get('tls_cert') else 'http'
    gate = GateProcess('%s://127.0.0.1:%d' % (scheme, config['listen_port']), config_path, log_path, proc)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail('the gate exited %s:\n%s' % (proc.returncode, gate.log()), pytrace=False)
        try:
            with socket.create_connection(('127.0.0.1', config['listen_port']), timeout=1):
                return gate
        except OSError:
            time.sleep(0.05)
    gate.stop()
    pytest.fail('the gate did not listen within 20s:\n%s' % gate.log(), pytrace=False)


@dataclass
class GatedLivy:
    """The shared rigs behind a gate: `gate.url` is what notebooks use, `livy.url` is Livy itself."""

    livy: object
    hadoop: object
    hub: object
    gate: GateProcess
    run_dir: str
    tokens: dict = field(default_factory=dict)    # user -> (token, token id)

    def auth(self, user, token=None):
        return (user, token or self.tokens[user][0])

    def new_token(self, user, expires_in=3600):
        """(token, id) of a new hub token owned by `user`, with the narrowest scopes (none asked)."""
        made = self.hub.api('POST', '/users/%s/tokens' % quote(user), token=self.hub.superuser_token,
                            json={'expires_in': expires_in, 'scopes': [], 'note': 'livy gate test'})
        return made['token'], made['id']

    def revoke(self, user, token_id):
        self.hub.api('DELETE', '/users/%s/tokens/%s' % (quote(user), token_id), token=self.hub.superuser_token)

    def livy_direct(self, path):
        """Livy's own answer, bypassing the gate (what it really holds)."""
        response = requests.get(self.livy.url + path, timeout=30)
        response.raise_for_status()
        return response.json()

    def sparkmagic_conf(self, user, password, proxy_user=None):
        """A sparkmagic config.json with Basic_Access credentials for the gate (what the role writes)."""
        conf_dir = os.path.join(self.run_dir, 'notebooks', user, '.sparkmagic')
        os.makedirs(conf_dir, exist_ok=True)
        credentials = {'username': user, 'password': password, 'auth': 'Basic_Access', 'url': self.gate.url}
        sessions = {'proxyUser': proxy_user} if proxy_user else {}
        with open(os.path.join(conf_dir, 'config.json'), 'w') as handle:
            json.dump({'kernel_python_credentials': credentials, 'session_configs': sessions,
                       'livy_session_startup_timeout_seconds': 300}, handle)
        return conf_dir

    def notebook(self, conf_dir, *args):
        """notebook_gate_client.py with the sparkmagic virtualenv and that config dir; its JSON."""
        env = dict(os.environ, SPARKMAGIC_CONF_DIR=conf_dir, HOME=conf_dir)
        proc = subprocess.run([self.livy.env['SPARKMAGIC_PYTHON'], CLIENT_PY, *args], capture_output=True,
                              text=True, env=env, timeout=1500, check=False)
        if proc.returncode != 0:
            pytest.fail('sparkmagic client exited %d\n%s\n%s\n%s' % (proc.returncode, proc.stdout[-5000:],
                        proc.stderr[-10000:], self.livy.log_tail()), pytrace=False)
        return json.loads(proc.stdout.strip().splitlines()[-1])


def _set_core_site(path, properties):
    tree = ET.parse(path)
    root = tree.getroot()
    for prop in list(root.findall('property')):
        if prop.findtext('name') in properties:
            root.remove(prop)
    for name, value in properties.items():
        prop = ET.SubElement(root, 'property')
        ET.SubElement(prop, 'name').text = name
        ET.SubElement(prop, 'value').text = value
    tree.write(path)


def _set_livy_conf(path, properties):
    with open(path) as handle:
        lines = [line for line in handle.read().splitlines()
                 if line.split('=', 1)[0].strip() not in properties]
    lines += ['%s = %s' % item for item in properties.items()]
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')


# Module scope: the proxy-user scope and livy.conf it sets on the shared rigs are given back when the
# gate's tests end, before the tests that need the rigs as they were (test_role_hadoop's "before").
@pytest.fixture(scope='module')
def gated_livy(livy, hadoop, jupyterhub):
    began = time.monotonic()
    run_dir = tempfile.mkdtemp(prefix='livy-gate-', dir='/tmp')
    gate = None
    made_users = []
    # Put back at the end: core-site.xml (re-read), then livy.conf (later tests meet the Livy it
    # describes).
    with rigs.restored(livy.conf_path, after=livy.restart), hadoop.core_site_restored():
        try:
            repl_stand_in = sorted(glob.glob(os.path.join(livy.env['LIVY_HOME'], 'jars', 'livy-api-*.jar')))[0]
            _set_livy_conf(livy.conf_path, {'livy.impersonation.enabled': 'true',
                                            'livy.repl.jars': 'file://' + repl_stand_in})
            _set_core_site(hadoop.core_site, {'hadoop.proxyuser.livy.hosts': '127.0.0.1',
                                              'hadoop.proxyuser.livy.users': ','.join(USERS)})
            hadoop.refresh_proxy_users()
            for user in USERS:
                hadoop.hdfs('dfs', '-mkdir', '-p', '/user/' + user, user='hdfs', check=True)
                hadoop.hdfs('dfs', '-chown', user, '/user/' + user, user='hdfs', check=True)
            livy.restart()
            made_users = sorted(set(USERS) - set(jupyterhub.user_names()))
            jupyterhub.create_users(made_users)
            gate = start_gate(run_dir, livy_url=livy.url, hub_url=jupyterhub.url, cache_seconds=2, hub_timeout=2,
                              livy_timeout=30)
            rig = GatedLivy(livy, hadoop, jupyterhub, gate, run_dir)
            for user in USERS:
                rig.tokens[user] = rig.new_token(user)
            livy.timings['gate_setup'] = round(time.monotonic() - began, 1)
            yield rig
        finally:
            if gate is not None:
                gate.stop()
            jupyterhub.delete_users(made_users)
            if os.environ.get('LIVY_RIG_KEEP') != '1':
                shutil.rmtree(run_dir, ignore_errors=True)
