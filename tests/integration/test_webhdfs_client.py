"""The WebHDFS client of hdfs_homedir against the rig's real NameNode: TLS settings and credentials.

The rig's NameNode serves plain HTTP, so the TLS tests put a TLS-terminating forwarder on
127.0.0.1 in front of its HTTP port, with a self-signed certificate made here with `openssl`;
requests then does its real certificate checks, environment variables included. Outcomes are
checked with WebHDFS LISTSTATUS through the fixture's own client.
"""

from __future__ import annotations

import json
import os
import select
import socket
import ssl
import subprocess
import sys
import threading
from urllib.parse import urlsplit

import pytest

from playbook import local_play, run_playbook

MODULE = 'datalake.notebooks.hdfs_homedir'
SECRET = 'HAAEaGRmcwRoZGZzAIoBjxQ2xjuKAY84QkY7AQIUzq5rV3Ah4PfO0vqsW8Tt6Do8lqQSV0VCSERGUyBkZWxlZ2F0aW9u'


def self_signed(directory, name):
    """(certificate, key) of a new self-signed certificate for 127.0.0.1."""
    cert, key = os.path.join(directory, name + '.pem'), os.path.join(directory, name + '.key')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', cert,
                    '-addext', 'subjectAltName=IP:127.0.0.1',
                    '-addext', 'basicConstraints=critical,CA:TRUE',
                    '-addext', 'keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign',
                    '-addext', 'extendedKeyUsage=serverAuth'],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class TlsForwarder:
    """HTTPS on 127.0.0.1:<free port>, every connection relayed in clear to 127.0.0.1:`port`."""

    def __init__(self, port, cert, key):
        self.port = port
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.url = 'https://127.0.0.1:%d' % self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.relayed = 0        # connections whose handshake the client accepted
        self.refused = 0        # handshakes that failed (the client did not trust the certificate)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self):
        self.listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, dummy = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(30)
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
        except (ssl.SSLError, OSError):
            conn.close()
            with self.lock:
                self.refused += 1
            return
        with self.lock:
            self.relayed += 1
        try:
            with tls, socket.create_connection(('127.0.0.1', self.port), timeout=30) as upstream:
                self._pipe(tls, upstream)
        except OSError:
            pass

    @staticmethod
    def _pipe(tls, upstream):
        # One thread a connection: an SSL socket must not be read and written from two threads.
        while True:
            readable = [tls] if tls.pending() else select.select([tls, upstream], [], [], 30)[0]
            if not readable:
                return
            for source in readable:
                data = source.recv(65536)
                if not data:
                    return
                (upstream if source is tls else tls).sendall(data)

    def close(self):
        self._stop.set()
        self.listener.close()
        self._thread.join(timeout=5)


@pytest.fixture(scope='module')
def tls_namenode(hadoop, tmp_path_factory):
    """The rig's NameNode behind TLS: (forwarder, its certificate, an unrelated certificate)."""
    directory = str(tmp_path_factory.mktemp('webhdfs-tls'))
    cert, key = self_signed(directory, 'namenode')
    bogus, dummy = self_signed(directory, 'unrelated')
    forwarder = TlsForwarder(urlsplit(hadoop.env['NAMENODE_HTTP']).port, cert, key)
    try:
        yield forwarder, cert, bogus
    finally:
        forwarder.close()


def task(name, **args):
    return {'name': name, MODULE: args, 'register': 'out', 'ignore_errors': True}


def run(tasks, hadoop, env=None, **kwargs):
    run_env = {'ANSIBLE_PYTHON_INTERPRETER': sys.executable, 'JAVA_HOME': hadoop.env['JAVA_HOME']}
    run_env.update(env or {})
    result = run_playbook(local_play(tasks), env=run_env, **kwargs)
    assert result.rc == 0, result.stdout + result.stderr
    return result


def listing(hadoop, base):
    status, body = hadoop.webhdfs('GET', base, 'LISTSTATUS')
    if status == 404:
        return None
    assert status == 200, body
    return sorted(entry['pathSuffix'] for entry in body['FileStatuses']['FileStatus'])


def make_base(hadoop, base):
    status, body = hadoop.webhdfs('PUT', base, 'MKDIRS', permission='755')
    assert status == 200 and body == {'boolean': True}, body


def shown(result):
    """A task result without `invocation` (Ansible's echo of the options as they were given)."""
    return json.dumps(dict((key, value) for key, value in result.items() if key != 'invocation'))


@pytest.mark.parametrize('variable, other', [('REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE'),
                                             ('CURL_CA_BUNDLE', 'REQUESTS_CA_BUNDLE')])
def test_validate_certs_and_ca_path_hold_against_a_ca_bundle_in_the_environment(
        hadoop, tls_namenode, variable, other):
    forwarder, cert, bogus = tls_namenode
    base = '/homes-tls-' + variable.split('_')[0].lower()
    make_base(hadoop, base)
    env = {variable: bogus, other: ''}
    common = dict(base=base, namenode_url=[forwarder.url], timeout=10)

    result = run([
        task('trust from the environment', users=['tls-a'], **common),
        task('validate_certs false', users=['tls-a'], validate_certs=False, **common),
        task('ca_path', users=['tls-a', 'tls-b'], ca_path=cert, **common),
    ], hadoop, env=env)

    # The bundle in the environment is in effect where nothing else is set: it does not trust
    # the forwarder's certificate.
    default = result.task('trust from the environment')
    assert default['failed'] is True
    assert 'CERTIFICATE_VERIFY_FAILED' in default['msg'], default['msg']
    # Neither validate_certs=false nor ca_path is overridden by it.
    insecure = result.task('validate_certs false')
    assert insecure.get('failed') is not True, insecure['msg']
    assert insecure['created_users'] == ['tls-a'] and insecure['namenode'] == forwarder.url
    with_ca = result.task('ca_path')
    assert with_ca.get('failed') is not True, with_ca['msg']
    assert with_ca['created_users'] == ['tls-b']
    assert listing(hadoop, base) == ['tls-a', 'tls-b']
    assert forwarder.refused >= 1 and forwarder.relayed >= 2
    # The refusal says what to do, and quotes the innermost reason, not urllib3's pool preamble.
    assert 'set ca_path' in default['msg'] and 'HTTPSConnectionPool' not in default['msg'], default['msg']


def test_a_ca_path_that_cannot_be_read_fails_clearly(hadoop, tls_namenode, tmp_path):
    forwarder, dummy, dummy = tls_namenode
    missing = str(tmp_path / 'no-such-ca.pem')
    result = run([task('missing ca_path', users=['tls-c'], base='/homes-tls-missing-ca',
                       namenode_url=[forwarder.url], ca_path=missing)], hadoop)
    out = result.task('missing ca_path')
    assert out['failed'] is True
    assert out['msg'].startswith('%s: cannot read the CA bundle' % forwarder.url), out['msg']
    assert missing in out['msg'] and 'Traceback' not in result.stdout + result.stderr


def test_a_delegation_token_in_namenode_url_is_refused_and_not_shown(hadoop):
    base = '/homes-delegation'
    make_base(hadoop, base)
    root = listing(hadoop, '/')
    url = hadoop.env['NAMENODE_HTTP'] + '/webhdfs/v1?delegation=' + SECRET

    for callback in ('ansible.posix.json', 'ansible.builtin.default'):
        result = run([task('delegation', users=['dt-user'], base=base, namenode_url=[url])], hadoop,
                     verbosity=3, callback=callback)
        assert 'has a query string (parameters: delegation)' in result.stdout
        assert 'Traceback' not in result.stdout + result.stderr

    out = run([task('delegation', users=['dt-user'], base=base, namenode_url=[url])], hadoop).task('delegation')
    assert out['failed'] is True
    assert out['msg'].startswith('namenode_url %s/webhdfs/v1 has a query string' % hadoop.env['NAMENODE_HTTP'])
    # Ansible echoes the option as given in `invocation`; nothing the module made quotes the token.
    assert SECRET not in shown(out)
    assert out['requests'] == 0
    # Nothing was listed or made anywhere.
    assert listing(hadoop, base) == [] and listing(hadoop, '/') == root


def test_a_password_in_namenode_url_is_never_shown(hadoop):
    base = '/homes-userinfo'
    make_base(hadoop, base)
    live = urlsplit(hadoop.env['NAMENODE_HTTP'])
    with_password = 'http://ops:%s@%s' % (SECRET, live.netloc)
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        dead = 'http://ops:%s@127.0.0.1:%d' % (SECRET, sock.getsockname()[1])

    result = run([
        task('dead then live', users=['ui-user'], base=base, namenode_url=[dead, with_password]),
        task('dead only', users=['ui-user'], base=base, namenode_url=[dead]),
    ], hadoop)

    live_out = result.task('dead then live')
    assert live_out.get('failed') is not True, live_out['msg']
    assert live_out['created_users'] == ['ui-user']
    assert live_out['namenode'] == 'http://ops:********@%s' % live.netloc
    dead_out = result.task('dead only')
    assert dead_out['failed'] is True
    assert dead.replace(SECRET, '********') + ': connection refused' in dead_out['msg']
    for out in (live_out, dead_out):
        assert SECRET not in shown(out)
    assert listing(hadoop, base) == ['ui-user']
