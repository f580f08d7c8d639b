"""The Livy gate in front of the real Livy, with the real hub, HDFS, YARN and sparkmagic client.

A notebook user can only be themselves: shirley's job runs as shirley, shirley asking for diego is
refused, shirley cannot see, poll, run statements in or delete diego's session or batch, and no,
wrong or revoked credentials, or a hub that is down, never reach Livy.

Batches run end to end (Spark on YARN as the caller). Sessions: Livy creates real session objects
(proxyUser, state, listing) which the routing rules are proven on; their interpreter cannot start
without REPL jars (see fixtures_livy_gate.py), so no statement is ever executed in a session.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
import requests

from broken_http import BrokenHub, LoopbackServer
from fixtures_livy import hdfs_owner, yarn_app_user
from fixtures_livy_gate import start_gate
from playbook import REPO_ROOT, ansible_env, run_playbook
from rigs import free_port

JSON = {'Content-Type': 'application/json', 'X-Requested-By': 'test'}


def batch_ids(rig):
    return sorted(item['id'] for item in rig.livy_direct('/batches?size=100000')['sessions'])


def session_ids(rig):
    return sorted(item['id'] for item in rig.livy_direct('/sessions?size=100000')['sessions'])


def through(rig, method, path, user=None, auth=None, **kwargs):
    if auth is None and user is not None:
        auth = rig.auth(user)
    return requests.request(method, rig.gate.url + path, auth=auth, timeout=30, **kwargs)


@pytest.fixture(scope='module')
def shirleys_job(gated_livy):
    """shirley's Spark job through the gate, sent by sparkmagic with her Basic credentials only:
    her config.json carries no proxyUser, the gate sets it."""
    rig = gated_livy
    target = '/user/shirley/gate-%d' % time.time()
    conf_dir = rig.sparkmagic_conf('shirley', rig.tokens['shirley'][0])
    result = rig.notebook(conf_dir, 'batch', rig.livy.job('whoami'), target)
    return result, target


def test_shirleys_job_runs_as_shirley(gated_livy, shirleys_job, hadoop):
    result, target = shirleys_job
    explain = json.dumps({k: v for k, v in result.items() if k != 'log'}) + '\n' + '\n'.join(result.get('log', [])[-60:])
    assert 'proxyUser' not in result['sent'], 'the client was meant to send no proxyUser'
    assert result['state'] == 'success', explain
    assert result['proxyUser'] == 'shirley', explain
    assert 'SPARK_USER=shirley' in result['log'], explain
    assert hdfs_owner(hadoop, target) == 'shirley'
    if gated_livy.livy.on_yarn:
        assert yarn_app_user(hadoop, result['appId']) == 'shirley', explain
    # The audit line of her submission names her.
    assert any('user=shirley method=POST path=/batches status=201' in line for line in gated_livy.gate.log().splitlines())


def test_sparkmagic_asking_for_diego_is_refused(gated_livy):
    rig = gated_livy
    before = batch_ids(rig), session_ids(rig)
    # Her own config.json edited to say diego.
    conf_dir = rig.sparkmagic_conf('shirley', rig.tokens['shirley'][0], proxy_user='diego')
    refused = rig.notebook(conf_dir, 'batch', rig.livy.job('whoami'))
    assert 'cannot start a batch as diego' in refused.get('refused', ''), refused
    # %%configure -f {"proxyUser": "diego"} before a session.
    conf_dir = rig.sparkmagic_conf('shirley', rig.tokens['shirley'][0])
    refused = rig.notebook(conf_dir, 'session', '--configure', json.dumps({'proxyUser': 'diego'}))
    assert 'cannot start a session as diego' in refused.get('refused', ''), refused
    assert (batch_ids(rig), session_ids(rig)) == before, 'a refused request reached Livy'


@pytest.mark.parametrize('path, body', [
    ('/batches?doAs=diego', {'file': 'hdfs:///nothing.py'}),
    ('/sessions?doAs=diego', {'kind': 'pyspark'}),
    ('/batches', {'file': 'hdfs:///nothing.py', 'proxyUser': 'diego'}),
    ('/batches', {'file': 'hdfs:///nothing.py', 'proxyUser': 'hdfs'}),
])
def test_asking_for_someone_else_is_refused(gated_livy, path, body):
    before = batch_ids(gated_livy), session_ids(gated_livy)
    response = through(gated_livy, 'POST', path, 'shirley', json=body, headers=JSON)
    assert response.status_code == 403, response.text
    assert (batch_ids(gated_livy), session_ids(gated_livy)) == before


@pytest.fixture(scope='module')
def diegos_objects(gated_livy):
    """A batch and a session of diego's, created through the gate (real Livy objects)."""
    rig = gated_livy
    conf_dir = rig.sparkmagic_conf('diego', rig.tokens['diego'][0])
    session = rig.notebook(conf_dir, 'session')
    assert session.get('proxyUser') == 'diego', session
    # A batch whose file does not exist: Livy records it as diego's and spark-submit fails fast.
    response = through(rig, 'POST', '/batches', 'diego', json={'file': 'hdfs:///user/diego/absent.py'}, headers=JSON)
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch['proxyUser'] == 'diego', batch
    return {'session': session['id'], 'batch': batch['id']}


def test_livy_holds_diegos_objects_as_his(gated_livy, diegos_objects):
    assert gated_livy.livy_direct('/sessions/%d' % diegos_objects['session'])['proxyUser'] == 'diego'
    assert gated_livy.livy_direct('/batches/%d' % diegos_objects['batch'])['proxyUser'] == 'diego'


@pytest.mark.parametrize('method, path, body', [
    ('GET', '/sessions/{session}', None),
    ('GET', '/sessions/{session}/state', None),
    ('GET', '/sessions/{session}/log?from=0&size=10', None),
    ('GET', '/sessions/{session}/statements', None),
    ('POST', '/sessions/{session}/statements', {'code': 'spark.sparkContext.sparkUser()'}),
    ('GET', '/sessions/{session}/statements/0', None),
    ('POST', '/sessions/{session}/statements/0/cancel', None),
    ('DELETE', '/sessions/{session}', None),
    ('GET', '/batches/{batch}', None),
    ('GET', '/batches/{batch}/state', None),
    ('GET', '/batches/{batch}/log?from=0&size=10', None),
    ('DELETE', '/batches/{batch}', None),
])
def test_shirley_cannot_touch_diegos_objects(gated_livy, diegos_objects, method, path, body):
    response = through(gated_livy, method, path.format(**diegos_objects), 'shirley', json=body, headers=JSON)
    assert response.status_code == 403, response.text
    assert 'is not yours' in response.json()['msg']
    # Still there, still diego's.
    assert gated_livy.livy_direct('/sessions/%d' % diegos_objects['session'])['proxyUser'] == 'diego'
    assert gated_livy.livy_direct('/batches/%d' % diegos_objects['batch'])['proxyUser'] == 'diego'


def test_listings_hold_only_the_callers_objects(gated_livy, diegos_objects, shirleys_job):
    rig = gated_livy
    for collection, diegos in (('sessions', diegos_objects['session']), ('batches', diegos_objects['batch'])):
        for user in ('shirley', 'diego'):
            listing = through(rig, 'GET', '/' + collection, user).json()
            assert {item['proxyUser'] for item in listing['sessions']} <= {user}, listing
            assert listing['total'] == len(listing['sessions'])
        ids = [item['id'] for item in through(rig, 'GET', '/' + collection, 'diego').json()['sessions']]
        assert diegos in ids
        assert diegos not in [item['id'] for item in through(rig, 'GET', '/' + collection, 'shirley').json()['sessions']]
    shirleys = [item['id'] for item in through(rig, 'GET', '/batches', 'shirley').json()['sessions']]
    assert shirleys_job[0]['id'] in shirleys


def test_diego_uses_his_own_objects(gated_livy, diegos_objects):
    rig = gated_livy
    assert through(rig, 'GET', '/sessions/%d' % diegos_objects['session'], 'diego').json()['proxyUser'] == 'diego'
    assert through(rig, 'GET', '/batches/%d/log' % diegos_objects['batch'], 'diego').status_code == 200
    # Forwarded to Livy, which answers for itself (the session has no interpreter): not the gate's 403.
    statement = through(rig, 'POST', '/sessions/%d/statements' % diegos_objects['session'], 'diego',
                        json={'code': '1'}, headers=JSON)
    assert statement.status_code != 403, statement.text
    assert 'msg' not in statement.text or 'is not yours' not in statement.text
    # Livy answers a batch's DELETE only once spark-submit has reported (or failed to start) the YARN
    # application, which on a loaded machine takes longer than a request's timeout: wait for that first.
    deadline = time.monotonic() + 300
    while (through(rig, 'GET', '/batches/%d' % diegos_objects['batch'], 'diego').json()['state'] in ('starting',)
           and time.monotonic() < deadline):
        time.sleep(2)
    assert through(rig, 'DELETE', '/batches/%d' % diegos_objects['batch'], 'diego').status_code == 200
    assert through(rig, 'DELETE', '/sessions/%d' % diegos_objects['session'], 'diego').status_code == 200
    assert diegos_objects['session'] not in session_ids(rig)
    assert diegos_objects['batch'] not in batch_ids(rig)


@pytest.mark.parametrize('auth, headers, words', [
    (None, {}, 'credentials required'),
    (('shirley', 'not-a-token'), {}, 'not valid'),
    ('diego-as-shirley', {}, 'does not belong to user shirley'),
    (None, {'Authorization': 'Bearer x'}, 'unsupported authorization scheme'),
])
def test_no_or_wrong_credentials_are_refused(gated_livy, auth, headers, words):
    if auth == 'diego-as-shirley':
        auth = ('shirley', gated_livy.tokens['diego'][0])
    before = batch_ids(gated_livy)
    response = requests.post(gated_livy.gate.url + '/batches', auth=auth, headers=dict(JSON, **headers),
                             json={'file': 'hdfs:///nothing.py'}, timeout=30)
    assert response.status_code == 401, response.text
    assert response.headers['WWW-Authenticate'].startswith('Basic')
    assert words in response.json()['msg']
    assert batch_ids(gated_livy) == before


def test_token_scheme_is_accepted(gated_livy):
    response = requests.get(gated_livy.gate.url + '/batches', timeout=30,
                            headers={'Authorization': 'token ' + gated_livy.tokens['shirley'][0]})
    assert response.status_code == 200, response.text


def test_revoked_token_stops_working_within_the_cache_age(gated_livy):
    token, token_id = gated_livy.new_token('shirley')
    assert through(gated_livy, 'GET', '/batches', auth=('shirley', token)).status_code == 200
    gated_livy.revoke('shirley', token_id)
    deadline = time.monotonic() + 10   # the fixture's gate caches answers for 2 s
    status = 200
    while status == 200 and time.monotonic() < deadline:
        time.sleep(0.25)
        status = through(gated_livy, 'GET', '/batches', auth=('shirley', token)).status_code
    assert status == 401


def test_expired_token_is_refused(gated_livy):
    token, dummy = gated_livy.new_token('shirley', expires_in=1)
    time.sleep(1.5)
    assert through(gated_livy, 'GET', '/batches', auth=('shirley', token)).status_code == 401


@pytest.fixture
def silent_server():
    """A hub that reads the request and does not answer within any timeout the gate has."""
    with BrokenHub('slow', delay=30) as hub:
        yield hub.url


@pytest.mark.parametrize('hub', ['closed port', 'hangs'])
def test_hub_down_is_503_and_nothing_is_forwarded(gated_livy, silent_server, tmp_path, hub):
    hub_url = 'http://127.0.0.1:%d' % free_port() if hub == 'closed port' else silent_server
    gate = start_gate(str(tmp_path), livy_url=gated_livy.livy.url, hub_url=hub_url, hub_timeout=1)
    try:
        before = batch_ids(gated_livy)
        began = time.monotonic()
        response = requests.post(gate.url + '/batches', auth=gated_livy.auth('shirley'), headers=JSON,
                                 json={'file': 'hdfs:///nothing.py'}, timeout=30)
        assert response.status_code == 503, response.text
        assert time.monotonic() - began < 5
        assert batch_ids(gated_livy) == before
        assert 'outcome="hub unavailable' in gate.log()
    finally:
        gate.stop()


def test_body_size_is_bounded(gated_livy):
    before = batch_ids(gated_livy)
    body = json.dumps({'file': 'hdfs:///nothing.py', 'args': ['x' * (2 * 1024 * 1024)]})
    response = through(gated_livy, 'POST', '/batches', 'shirley', data=body, headers=JSON)
    assert response.status_code == 413, response.text
    assert batch_ids(gated_livy) == before


def raw_exchange(rig, data):
    """The gate's answer to these bytes sent on one connection, read until it closes or falls silent."""
    host, port = rig.gate.url.split('//', 1)[1].split(':')
    chunks = []
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(data)
        sock.settimeout(3)
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            pass
    return b''.join(chunks)


def test_heads_that_could_smuggle_a_request_are_refused(gated_livy):
    auth = requests.auth._basic_auth_str(*gated_livy.auth('shirley'))
    body = json.dumps({'file': 'hdfs:///nothing.py'})
    # Each would carry a second request (or a header of its own) to Livy if read leniently.
    heads = [
        'Content-Length: %d\r\nContent-Length: 0' % len(body),
        'Content-Length: %d\r\nX-A: 1\nContent-Length: 0' % len(body),
        'Content-Length : %d' % len(body),
        'Content-Length: %d\r\n X-Folded: 1' % len(body),
    ]
    before = batch_ids(gated_livy)
    for head in heads:
        smuggled = 'GET /batches HTTP/1.1\r\nAuthorization: %s\r\n\r\n' % auth
        answer = raw_exchange(gated_livy, ('POST /batches HTTP/1.1\r\nAuthorization: %s\r\n%s\r\n\r\n%s%s'
                                           % (auth, head, body, smuggled)).encode())
        assert answer.startswith(b'HTTP/1.1 400 '), (head, answer[:300])
        assert answer.count(b'HTTP/1.1 ') == 1, (head, answer)
        assert b'Connection: close' in answer
    # A chunked body is refused before it is read, and the connection ends with the answer.
    answer = raw_exchange(gated_livy, ('POST /batches HTTP/1.1\r\nAuthorization: %s\r\nTransfer-Encoding: chunked'
                                       '\r\n\r\n%x\r\n%s\r\n0\r\n\r\n' % (auth, len(body), body)).encode())
    assert answer.startswith(b'HTTP/1.1 411 ') and answer.count(b'HTTP/1.1 ') == 1, answer[:300]
    assert batch_ids(gated_livy) == before
    assert 'outcome="bad request: repeated content-length header"' in gated_livy.gate.log()


def test_requests_sent_ahead_are_answered_in_order(gated_livy):
    auth = requests.auth._basic_auth_str(*gated_livy.auth('shirley'))
    ahead = ''.join('GET /version HTTP/1.1\r\nAuthorization: %s\r\n\r\n' % auth for dummy in range(30))
    ahead += 'GET /batches HTTP/1.1\r\n\r\nGET /sessions/0/../1 HTTP/1.1\r\nAuthorization: %s\r\n' % auth
    ahead += 'Connection: close\r\n\r\n'
    answer = raw_exchange(gated_livy, ahead.encode())
    # Answers follow each other without a line end between a body and the next status line.
    statuses = [int(status) for status in re.findall(rb'HTTP/1\.1 (\d{3}) ', answer)]
    assert statuses == [200] * 30 + [401, 400], statuses


def test_no_100_continue_before_the_credentials_are_checked(gated_livy):
    answer = raw_exchange(gated_livy, b'POST /batches HTTP/1.1\r\nAuthorization: Basic c2hpcmxleTp3cm9uZw==\r\n'
                                      b'Content-Type: application/json\r\nContent-Length: 10\r\n'
                                      b'Expect: 100-continue\r\n\r\n')
    assert answer.startswith(b'HTTP/1.1 401 ') and b'100 Continue' not in answer, answer[:300]


def test_a_hostile_proxy_user_cannot_forge_an_audit_line(gated_livy):
    forged = 'diego"\n2026-01-01 00:00:00,000 livy_gate INFO user=diego method=POST path=/batches status=201'
    response = through(gated_livy, 'POST', '/batches', 'shirley', headers=JSON,
                       json={'file': 'hdfs:///nothing.py', 'proxyUser': forged})
    assert response.status_code == 403, response.text
    lines = gated_livy.gate.log().splitlines()
    assert not any(line.startswith('2026-01-01 00:00:00,000') for line in lines)
    assert any('user=shirley method=POST path=/batches status=403' in line and '\\n2026-01-01' in line
               for line in lines)


def test_ui_and_unknown_paths_are_refused(gated_livy):
    for path in ('/ui', '/ui/batch/0', '/', '/metrics', '/static/js/livy-ui.js'):
        response = through(gated_livy, 'GET', path, 'shirley')
        assert response.status_code == 403, (path, response.status_code)
    # Sent as they are (requests would normalise them first).
    host, port = gated_livy.gate.url.split('//', 1)[1].split(':')
    auth = requests.auth._basic_auth_str(*gated_livy.auth('shirley'))
    for path in ('/sessions/0/../1', '/batches/%2e%2e/ui', '/sessions//0'):
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        try:
            conn.request('GET', path, headers={'Authorization': auth})
            assert conn.getresponse().status == 400, path
        finally:
            conn.close()
    assert through(gated_livy, 'GET', '/version', 'shirley').json()['version'].startswith('0.7')


def non_loopback_addresses():
    out = subprocess.run(['hostname', '-I'], capture_output=True, text=True, check=True).stdout.split()
    return [address for address in out if not address.startswith('127.') and address != '::1']


def test_livy_is_not_reachable_on_any_non_loopback_address(gated_livy):
    port = int(gated_livy.livy.url.rsplit(':', 1)[1])
    addresses = non_loopback_addresses()
    assert addresses, 'this host has no non-loopback address to check'
    for address in addresses:
        family = socket.AF_INET6 if ':' in address else socket.AF_INET
        with socket.socket(family) as sock:
            sock.settimeout(2)
            assert sock.connect_ex((address, port)) != 0, 'Livy answers on %s:%d' % (address, port)
    # ... while loopback reaches it (so the check above looked at the right port).
    with socket.create_connection(('127.0.0.1', port), timeout=2):
        pass


class SlowLivy(BaseHTTPRequestHandler):
    """A Livy stand-in: /batches/1 takes 3 s, everything else answers at once."""

    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        if self.path.startswith('/batches/1'):
            time.sleep(3)
        body = json.dumps({'id': 1, 'proxyUser': 'shirley', 'state': 'running', 'version': 'slow'}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def slow_livy():
    with LoopbackServer(SlowLivy) as server:
        yield server.url


def test_one_slow_livy_call_does_not_block_the_others(gated_livy, slow_livy, tmp_path):
    gate = start_gate(str(tmp_path), livy_url=slow_livy, hub_url=gated_livy.hub.url)
    try:
        auth = gated_livy.auth('shirley')
        slow = {}

        def poll_slow():
            began = time.monotonic()
            slow['status'] = requests.get(gate.url + '/batches/1', auth=auth, timeout=30).status_code
            slow['seconds'] = time.monotonic() - began

        requests.get(gate.url + '/version', auth=auth, timeout=30)   # warms the auth cache
        thread = threading.Thread(target=poll_slow)
        thread.start()
        time.sleep(0.3)
        began = time.monotonic()
        for dummy in range(20):
            assert requests.get(gate.url + '/version', auth=auth, timeout=30).status_code == 200
        fast = time.monotonic() - began
        still_slow = thread.is_alive()
        thread.join(timeout=30)
        assert still_slow, 'the slow call ended before the fast ones; nothing was shown'
        assert fast < 2.0, '20 requests took %.1fs behind one slow call' % fast
        assert slow['status'] == 200 and slow['seconds'] >= 2.5, slow
    finally:
        gate.stop()


def test_tls(gated_livy, tmp_path):
    key, cert = str(tmp_path / 'gate.key'), str(tmp_path / 'gate.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
                    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert],
                   check=True, capture_output=True)
    gate = start_gate(str(tmp_path), livy_url=gated_livy.livy.url, hub_url=gated_livy.hub.url, tls_cert=cert, tls_key=key)
    try:
        response = requests.get(gate.url + '/batches', auth=gated_livy.auth('shirley'), verify=cert, timeout=30)
        assert response.status_code == 200, response.text
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(gate.url.replace('https', 'http') + '/batches', timeout=5)
    finally:
        gate.stop()


def test_audit_log_names_each_user_and_holds_no_token(gated_livy, shirleys_job):
    log = gated_livy.gate.log()
    assert 'user=shirley ' in log and 'user=diego ' in log
    for token, dummy in gated_livy.tokens.values():
        assert token not in log
    for line in log.splitlines():
        if ' path=' in line:
            assert ' user=' in line and ' status=' in line, line


# --- The role deploys the gate: Livy on loopback, gate.json, and per-user config.json with tokens ---

def role_variables(rig, homes, deploy_dir, gate_port, **extra):
    hadoop, livy = rig.hadoop, rig.livy
    variables = dict(hadoop.role_variables(), **{
        'livy_impersonation_hosts': 'localhost',
        'livy_impersonation_livy_conf_path': livy.conf_path,
        'livy_impersonation_users': ['shirley', 'diego'],
        'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_refresh_yarn': livy.on_yarn,
        'livy_impersonation_hdfs_backend': 'cli',
        'livy_impersonation_backup': False,
        'livy_impersonation_sparkmagic_config': True,
        'livy_impersonation_sparkmagic_livy_url': 'http://127.0.0.1:%d' % gate_port,
        'livy_impersonation_sparkmagic_home_base': str(homes),
        'livy_impersonation_sparkmagic_set_owner': False,
        'livy_impersonation_sparkmagic_startup_timeout': 300,
        'livy_impersonation_gate': True,
        'livy_impersonation_gate_listen_host': '127.0.0.1',
        'livy_impersonation_gate_port': gate_port,
        # The rig's Livy already listens on 127.0.0.1 on a port of its own.
        'livy_impersonation_gate_livy_port': int(livy.url.rsplit(':', 1)[1]),
        'livy_impersonation_gate_hub_url': rig.hub.url,
        'livy_impersonation_gate_tokens_api_token': rig.hub.superuser_token,
        # No systemd on the test host: the test starts the deployed gate as its unit would.
        'livy_impersonation_gate_manage_service': False,
        'livy_impersonation_gate_install_dir': os.path.join(deploy_dir, 'opt'),
        'livy_impersonation_gate_config_dir': os.path.join(deploy_dir, 'etc'),
    })
    variables.update(extra)
    return variables


ROLE_ENV = {'ANSIBLE_BECOME_METHOD': 'su', 'ANSIBLE_BECOME_FLAGS': '-s /bin/sh',
            'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3'}


@pytest.fixture(scope='module')
def role_gate(gated_livy):
    rig = gated_livy
    homes = os.path.join(rig.run_dir, 'role-homes')
    deploy = os.path.join(rig.run_dir, 'deploy')
    for user in ('shirley', 'diego'):
        os.makedirs(os.path.join(homes, user), exist_ok=True)
    os.makedirs(deploy, exist_ok=True)
    os.chmod(rig.run_dir, 0o755)
    os.chmod(deploy, 0o755)
    gate_port = free_port()
    began = time.monotonic()
    site = run_playbook(os.path.join(REPO_ROOT, 'playbooks', 'site.yml'), env=ROLE_ENV,
                        extra_vars=role_variables(rig, homes, deploy, gate_port))
    assert site.rc == 0, 'playbooks/site.yml failed:\n%s\n%s' % (site.stdout[-20000:], site.stderr[-5000:])
    rig.livy.timings['role_with_gate'] = round(time.monotonic() - began, 1)
    # What the unit runs: the deployed program with the deployed settings, as the gate's own user.
    config = os.path.join(deploy, 'etc', 'gate.json')
    log_path = os.path.join(deploy, 'gate.log')
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(['setpriv', '--reuid=livy-gate', '--regid=livy-gate', '--init-groups',
                                 '/usr/bin/python3', os.path.join(deploy, 'opt', 'livy_gate.py'), '--config', config],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                socket.create_connection(('127.0.0.1', gate_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        assert proc.poll() is None, open(log_path).read()
        yield {'homes': homes, 'deploy': deploy, 'site': site, 'port': gate_port, 'log': log_path}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def read_json(path):
    with open(path) as handle:
        return json.load(handle)


def test_role_moves_livy_to_loopback_and_writes_the_gate_settings(role_gate, gated_livy):
    with open(gated_livy.livy.conf_path) as handle:
        conf = dict(line.split('=', 1) for line in handle.read().splitlines() if '=' in line and not line.startswith('#'))
    conf = {key.strip(): value.strip() for key, value in conf.items()}
    assert conf['livy.server.host'] == '127.0.0.1'
    assert conf['livy.server.port'] == gated_livy.livy.url.rsplit(':', 1)[1]
    assert conf['livy.impersonation.enabled'] == 'true'
    settings_path = os.path.join(role_gate['deploy'], 'etc', 'gate.json')
    settings = read_json(settings_path)
    assert settings['livy_url'] == gated_livy.livy.url
    assert settings['listen_port'] == role_gate['port'] and settings['hub_url'] == gated_livy.hub.url
    info = os.stat(settings_path)
    assert oct(info.st_mode & 0o777) == '0o640'


def test_role_writes_each_user_a_token_of_their_own(role_gate, gated_livy):
    for user in ('shirley', 'diego'):
        data = read_json(os.path.join(role_gate['homes'], user, '.sparkmagic', 'config.json'))
        credentials = data['kernel_python_credentials']
        assert (credentials['auth'], credentials['username']) == ('Basic_Access', user)
        assert credentials['url'] == 'http://127.0.0.1:%d' % role_gate['port']
        owner = requests.get(gated_livy.hub.url + '/hub/api/user', timeout=30,
                             headers={'Authorization': 'token ' + credentials['password']}).json()
        assert owner['name'] == user
        assert credentials['password'] not in role_gate['site'].stdout + role_gate['site'].stderr


def test_through_the_deployed_gate_diego_runs_as_diego_and_shirley_cannot(role_gate, gated_livy, hadoop):
    rig = gated_livy
    diego = rig.notebook(os.path.join(role_gate['homes'], 'diego', '.sparkmagic'), 'batch', rig.livy.job('whoami'))
    explain = json.dumps({k: v for k, v in diego.items() if k != 'log'}) + '\n'.join(diego.get('log', [])[-40:])
    assert diego['state'] == 'success' and 'SPARK_USER=diego' in diego['log'], explain
    if rig.livy.on_yarn:
        assert yarn_app_user(hadoop, diego['appId']) == 'diego', explain
    # shirley edits her own role-written config.json to claim diego.
    path = os.path.join(role_gate['homes'], 'shirley', '.sparkmagic', 'config.json')
    data = read_json(path)
    data['session_configs']['proxyUser'] = 'diego'
    with open(path, 'w') as handle:
        json.dump(data, handle)
    refused = rig.notebook(os.path.dirname(path), 'batch', rig.livy.job('whoami'))
    assert 'cannot start a batch as diego' in refused.get('refused', ''), refused
    with open(role_gate['log']) as handle:
        log = handle.read()
    assert 'user=diego method=POST path=/batches status=201' in log
    assert 'user=shirley method=POST path=/batches status=403' in log


def test_role_without_the_gate_warns(gated_livy, tmp_path):
    variables = role_variables(gated_livy, str(tmp_path), str(tmp_path), free_port(), livy_impersonation_gate=False)
    # The settings checks only: the warning comes before anything changes.
    run = subprocess.run(['ansible-playbook', os.path.join(REPO_ROOT, 'playbooks', 'site.yml'), '-i', 'localhost,',
                          '-c', 'local', '--tags', 'livy_impersonation_validate', '-e', json.dumps(variables)],
                         capture_output=True, text=True, timeout=300, check=False,
                         env=ansible_env(dict(ROLE_ENV, ANSIBLE_STDOUT_CALLBACK='default')))
    output = ' '.join((run.stdout + run.stderr).split())
    assert run.returncode == 0, run.stdout[-5000:] + run.stderr[-5000:]
    assert "[WARNING]: Livy impersonation is on without the Livy gate" in output, output[-3000:]
    assert "any notebook user can send another user's proxyUser" in output
