"""The Livy gate's own HTTP: the request-head parser (strict where smuggling lives), body bounds,
and the kept-alive client it reaches Livy with, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import http.client
import importlib.util
import io
import os
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

GATE_PATH = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'livy_impersonation', 'files',
                         'livy_gate.py')
_spec = importlib.util.spec_from_file_location('livy_gate_http', GATE_PATH)
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)
# The loopback server of the integration tests' broken hub serves the stand-in Livy below.
_spec = importlib.util.spec_from_file_location(
    'broken_http', os.path.join(os.path.dirname(__file__), '..', '..', 'integration', 'broken_http.py'))
broken_http = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(broken_http)


# --- request heads -----------------------------------------------------------------------------

def test_head_parsed():
    method, target, version, headers = gate.parse_head(
        b'GET /sessions/1/statements/0?x=1 HTTP/1.1\r\nHost: gate\r\nAuthorization: Basic abc\r\n'
        b'Accept: a\r\naccept:  b \r\nX-Requested-By:')
    assert (method, target, version) == ('GET', '/sessions/1/statements/0?x=1', 'HTTP/1.1')
    assert headers == {'host': 'gate', 'authorization': 'Basic abc', 'accept': 'a, b', 'x-requested-by': ''}


def test_head_leading_slashes_are_collapsed():
    assert gate.parse_head(b'GET //evil/sessions HTTP/1.1\r\nHost: x')[1] == '/evil/sessions'


@pytest.mark.parametrize('head, status', [
    (b'GET /sessions HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 5', 400),          # smuggling
    (b'POST /batches HTTP/1.1\r\nAuthorization: Basic a\r\nAuthorization: Basic b', 400),
    (b'GET /sessions HTTP/1.1\r\nX-A: 1\nAuthorization: token t', 400),                   # bare LF
    (b'GET /sessions HTTP/1.1\r\nX-A: 1\rX-B: 2', 400),                                  # bare CR
    (b'GET /sessions HTTP/1.1\r\nContent-Length : 5', 400),                               # space before colon
    (b'GET /sessions HTTP/1.1\r\nX-A: 1\r\n folded', 400),                                # obs-fold
    (b'GET /sessions HTTP/1.1\r\nX-A: \x00', 400),
    (b'GET /sessions HTTP/1.1\r\nX-A: caf\xc3\xa9', 400),
    (b'GET /s\xc3\xa9ssions HTTP/1.1', 400),
    (b'GET /sessions', 400),
    (b'GET  /sessions HTTP/1.1', 400),
    (b'G(T /sessions HTTP/1.1', 400),
    (b'GET /sessions HTTP/2.0', 505),
    (b'GET /sessions HTTP/1.1' + b'\r\nX: y' * 101, 431),
])
def test_head_refused(head, status):
    with pytest.raises(gate.BadRequest) as caught:
        gate.parse_head(head)
    assert caught.value.status == status


@pytest.mark.parametrize('headers, length', [
    ({}, 0),
    ({'content-length': ''}, 0),
    ({'content-length': '0'}, 0),
    ({'content-length': '1048576'}, 1048576),
])
def test_body_length(headers, length):
    assert gate.body_length(headers, 1048576) == length


@pytest.mark.parametrize('headers, status', [
    ({'transfer-encoding': 'chunked'}, 411),
    ({'content-length': '1048577'}, 413),
    ({'content-length': '-1'}, 400),
    ({'content-length': '+5'}, 400),
    ({'content-length': '\u0665'}, 400),   # a digit to str.isdigit, not to HTTP
])
def test_body_length_refused(headers, status):
    with pytest.raises(gate.Refusal) as caught:
        gate.body_length(headers, 1048576)
    assert caught.value.status == status


@pytest.mark.parametrize('version, connection, keep', [
    ('HTTP/1.1', '', True), ('HTTP/1.1', 'close', False), ('HTTP/1.1', 'Keep-Alive, Close', False),
    ('HTTP/1.0', '', False), ('HTTP/1.0', 'keep-alive', True),
])
def test_keeps_alive(version, connection, keep):
    assert gate.keeps_alive(version, {'connection': connection} if connection else {}) is keep


def test_audit_line_stays_one_line_whatever_it_quotes():
    async def write():
        stream = io.StringIO()
        audit = gate.AuditLog(asyncio.get_running_loop(), stream)
        audit.line('shirley', 'POST', '/batches', 403, 1.25, '127.0.0.1', 'proxyUser diego\nuser=diego refused')
        audit.line(None, '-', '-', 400, 0.5, '127.0.0.1', 'bad request')
        assert stream.getvalue() == ''          # written once the loop turn is over
        await asyncio.sleep(0)
        return stream.getvalue()
    lines = asyncio.run(write()).splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(' livy_gate INFO user=shirley method=POST path=/batches status=403 ms=1.2 '
                             'client=127.0.0.1 outcome="proxyUser diego\\nuser=diego refused"')
    assert ' user=- method=- path=- status=400 ' in lines[1]


# --- the kept-alive client towards Livy, against a real HTTP server ------------------------------------

class StandIn(BaseHTTPRequestHandler):
    """/plain answers with a Content-Length, /chunked in chunks, /until-close without a length,
    /slow after 2 s, /close closes the connection after answering; each answer names the connection."""

    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        peer = '%s:%d' % self.client_address
        body = ('%s %s' % (self.path, peer)).encode()
        if self.path == '/slow':
            time.sleep(2)
        if self.path == '/chunked':
            self.send_response(200)
            self.send_header('Transfer-Encoding', 'chunked')
            self.end_headers()
            for piece in (body[:3], body[3:]):
                self.wfile.write(b'%x;ext=1\r\n%s\r\n' % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b'0\r\nX-Trailer: t\r\n\r\n')
            return
        if self.path == '/until-close':
            self.send_response(200)
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        if self.path == '/close':
            self.send_header('Connection', 'close')
        self.end_headers()
        self.wfile.write(body)

    do_DELETE = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture
def stand_in():
    with broken_http.LoopbackServer(StandIn) as server:
        yield server.url


def livy_calls(url, calls, timeout=5.0, between=None):
    """The outcomes of the requests in `calls` ([(method, path)]), sent one after the other over one pool."""
    async def run():
        pool = gate.LivyPool(asyncio.get_running_loop(), url, timeout)
        outcomes = []
        for method, path in calls:
            done = asyncio.get_running_loop().create_future()
            pool.request(method, path, None, {'accept': 'application/json'},
                         lambda result, error, done=done: done.set_result((result, error)))
            outcomes.append(await done)
            if between:
                await between(pool)
        pool.close()
        return outcomes
    return asyncio.run(run())


def test_livy_answers_of_every_framing_are_read(stand_in):
    outcomes = livy_calls(stand_in, [('GET', '/plain'), ('GET', '/chunked'), ('GET', '/plain'), ('GET', '/close'),
                                     ('GET', '/plain'), ('GET', '/until-close'), ('GET', '/plain')])
    assert all(error is None for dummy, error in outcomes), outcomes
    bodies = [body.decode().split() for (dummy, dummy2, body), dummy3 in outcomes]
    assert [path for path, dummy in bodies] == ['/plain', '/chunked', '/plain', '/close', '/plain', '/until-close',
                                                '/plain']
    peers = [peer for dummy, peer in bodies]
    # Kept alive until the server closes: the first four share a connection, then a new one twice.
    assert len(set(peers[:4])) == 1 and peers[4] != peers[3] and peers[5] == peers[4] and peers[6] != peers[5]
    status, headers, dummy = outcomes[1][0]
    assert status == 200 and ('Transfer-Encoding', 'chunked') in headers


def test_livy_closing_an_idle_connection_is_retried_once_for_a_get(stand_in):
    async def server_closes(pool):
        for conn in pool.idle:       # as Livy does with a connection idle for too long
            conn.transport.get_extra_info('socket').shutdown(socket.SHUT_RD)
        await asyncio.sleep(0.2)
    outcomes = livy_calls(stand_in, [('GET', '/plain'), ('GET', '/plain'), ('DELETE', '/plain')], between=server_closes)
    assert [error for dummy, error in outcomes] == [None, None, None]


def test_livy_timeout_and_refusal_are_errors(stand_in):
    began = time.monotonic()
    [(result, error)] = livy_calls(stand_in, [('GET', '/slow')], timeout=0.5)
    assert result is None and isinstance(error, TimeoutError) and time.monotonic() - began < 1.5
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d' % sock.getsockname()[1]
    [(result, error)] = livy_calls(closed, [('GET', '/plain')])
    assert result is None and isinstance(error, ConnectionRefusedError)


def test_livy_garbage_is_an_http_error():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)

    def garbage():
        conn, dummy = listener.accept()
        conn.recv(65536)
        conn.sendall(b'SSH-2.0-OpenSSH\r\n\r\n')
        conn.close()
    threading.Thread(target=garbage, daemon=True).start()
    try:
        [(result, error)] = livy_calls('http://127.0.0.1:%d' % listener.getsockname()[1], [('GET', '/plain')])
    finally:
        listener.close()
    assert result is None and isinstance(error, http.client.HTTPException)
