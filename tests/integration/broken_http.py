"""Deliberately broken HTTP servers on 127.0.0.1, for the faults a real JupyterHub does not produce.

Each one answers `GET /hub/api/` like a hub (so the client gets as far as listing users) and then
misbehaves in one way: pages that never end, a `next` past `_pagination.total`, connections reset
before any answer, answers slower than the client's timeout. They run in a daemon thread of the test
process and record every request, so a test can assert how often the client asked. LoopbackServer
serves any other handler the same way (the Livy gate's tests use it for a stand-in Livy).

    with BrokenHub('endless-pages') as hub:
        ...  # point the module at hub.url
        assert hub.count('/hub/api/users') == MAX_PAGES
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MODES = ('empty-pages', 'endless-pages', 'past-total', 'reset', 'slow')


class _Handler(BaseHTTPRequestHandler):
    # Keep-alive, as a hub behind its proxy answers: a thousand pages stay quick.
    protocol_version = 'HTTP/1.1'
    # Headers and body go out in two writes: with Nagle, each answer would wait for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, *args):  # pylint: disable=arguments-differ
        pass

    def do_GET(self):  # pylint: disable=invalid-name
        server = self.server
        parts = urlsplit(self.path)
        with server.lock:
            server.requests.append(parts.path)
        if server.mode == 'reset':
            # SO_LINGER 0: close() sends a TCP RST instead of a FIN, after the request was read.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if server.mode == 'slow':
            time.sleep(server.delay)
        if parts.path.rstrip('/') == '/hub/api':
            self._json({'version': '6.1.1'})
        elif parts.path == '/hub/api/users':
            query = parse_qs(parts.query)
            offset = int(query.get('offset', ['0'])[0])
            self._json(self._page(offset))
        else:
            self._json({'status': 404, 'message': 'Not Found'}, status=404)

    def _page(self, offset):
        mode = self.server.mode
        pagination = {'offset': offset, 'limit': 50}
        if mode == 'empty-pages':
            # One real page, then empty pages whose `next` keeps advancing.
            items = [{'name': 'first-%d' % number} for number in range(3)] if offset == 0 else []
            following = offset + 50
        elif mode == 'past-total':
            # One user a page and `total` 3, but `next` is never null.
            items = [{'name': 'user-%d' % offset}]
            pagination['total'] = 3
            following = offset + 1
        else:
            # A new user on every page, no `total`, `next` for ever.
            items = [{'name': 'endless-%d' % offset}]
            following = offset + 1
        pagination['next'] = {'offset': following, 'limit': 50,
                              'url': 'http://127.0.0.1:1/hub/api/users?offset=%d' % following}
        return {'items': items, '_pagination': pagination}

    def _json(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class LoopbackServer(ThreadingHTTPServer):
    """`handler` (a BaseHTTPRequestHandler class) served on 127.0.0.1:<free port> in a daemon thread
    of the test process while the `with` block runs; `url` is where."""

    daemon_threads = True
    # A handler left sleeping (a server that hangs) must not hold up the end of the test.
    block_on_close = False

    def __init__(self, handler):
        super().__init__(('127.0.0.1', 0), handler)
        self._thread = threading.Thread(target=self.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=10)


class BrokenHub(LoopbackServer):
    """A hub look-alike on 127.0.0.1:<free port> that fails in `mode` (one of MODES); 'slow' answers
    after `delay` seconds."""

    def __init__(self, mode, delay=0.0):
        if mode not in MODES:
            raise ValueError('mode %r is not one of %s' % (mode, ', '.join(MODES)))
        super().__init__(_Handler)
        self.mode = mode
        self.delay = delay
        self.lock = threading.Lock()
        self.requests = []

    def count(self, path):
        """How many requests asked for `path` (the query string left out)."""
        with self.lock:
            return sum(1 for seen in self.requests if seen.rstrip('/') == path.rstrip('/'))
