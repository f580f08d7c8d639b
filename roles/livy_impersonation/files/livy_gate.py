# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The Livy gate: an authenticating reverse proxy in front of an unauthenticated Livy.

Livy without Kerberos believes whatever proxyUser a client sends. The gate listens where clients
reached Livy, forwards to a Livy bound to loopback, and makes "who ran this" true:

* every request carries HTTP Basic credentials (a JupyterHub user name and an API token owned by
  that user, what sparkmagic's Basic_Access auth sends) or `Authorization: token <t>`; the hub says
  who owns the token (GET /hub/api/user), the answer is cached briefly;
* a new session or batch runs as the caller (proxyUser set, a different one refused, doAs refused);
* /sessions/{id}/... and /batches/{id}/... are served to the owner (the object's proxyUser) only,
  and listings hold only the caller's objects;
* no credentials, a wrong token or an unreachable hub: refused, never forwarded.

Standard library only, so nothing is installed on the master node. The decisions (credentials,
cache, routing, policy, listing filters) are plain functions and classes without sockets; the
HTTP plumbing at the end is thin over them. Run: python3 livy_gate.py --config /etc/livy-gate/gate.json
"""

from __future__ import annotations

import argparse
import base64
import binascii
import collections
import hashlib
import http.client
import json
import logging
import os
import queue
import re
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlencode, urlsplit

LOG = logging.getLogger('livy_gate')

# Settings, their types and defaults. Every key of the config file must be one of these.
DEFAULTS = {
    'listen_host': '0.0.0.0',
    'listen_port': 8998,
    'tls_cert': '',
    'tls_key': '',
    'livy_url': 'http://127.0.0.1:8999',
    'livy_timeout': 60.0,
    'hub_url': '',
    'hub_ca': '',
    'hub_validate_certs': True,
    'hub_timeout': 5.0,
    'cache_seconds': 60.0,
    'cache_size': 10000,
    'max_body_bytes': 1024 * 1024,
    'max_clients': 256,
    'owner_cache_seconds': 1.0,
    'workers': 1,
    'client_timeout': 120.0,
    'admins_see_all': False,
    'allow_paths': [],
}
# A revoked token must stop working soon: the cache never holds an answer longer than this.
MAX_CACHE_SECONDS = 300.0
# Livy numbers sessions and batches from 0 again after a restart (without recovery), so an owner
# learnt before a restart must be gone before Livy can hand the same id to someone else: Livy takes
# seconds to start, the owner cache keeps an answer at most this long.
MAX_OWNER_CACHE_SECONDS = 2.0
# Livy's listing page size when the gate fetches a whole listing to filter it.
LISTING_FETCH_SIZE = 100000
# Request headers passed on to Livy; everything else (Authorization first) stays at the gate.
FORWARD_REQUEST_HEADERS = ('content-type', 'accept', 'x-requested-by', 'user-agent')
HOP_BY_HOP = frozenset(('connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te',
                        'trailers', 'transfer-encoding', 'upgrade', 'content-length', 'server', 'date'))
# Livy's REST paths the gate understands; anything else is refused unless allow_paths names it.
PATH_CHARS = re.compile(r'^/[A-Za-z0-9._~/-]*$')
COLLECTION = re.compile(r'^/(sessions|batches)/?$')
OBJECT = re.compile(r'^/(sessions|batches)/([0-9]{1,18})(/[A-Za-z0-9_/-]*)?$')
SINGULAR = {'sessions': 'session', 'batches': 'batch'}


class ConfigError(Exception):
    """The gate's configuration is unusable; the message names the setting."""


class Refusal(Exception):
    """A request the gate answers itself, with `status` and a message for the caller."""

    def __init__(self, status, message, reason=None):
        super().__init__(message)
        self.status = status
        self.message = message
        # What the audit line says; never a secret.
        self.reason = reason or message


class HubUnavailable(Exception):
    """The hub did not answer in time or answered with a server error."""


# ---------------------------------------------------------------------------------------------
# Configuration


def load_config(data):
    """The settings from a parsed config document, with defaults; ConfigError names a bad key."""
    if not isinstance(data, dict):
        raise ConfigError('the gate configuration must be a JSON object')
    unknown = sorted(set(data) - set(DEFAULTS))
    if unknown:
        raise ConfigError('unknown setting(s) %s; known: %s' % (', '.join(unknown), ', '.join(sorted(DEFAULTS))))
    config = dict(DEFAULTS)
    config.update(data)
    for key, default in DEFAULTS.items():
        value = config[key]
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError('%s must be true or false, not %r' % (key, value))
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError('%s must be a positive number, not %r' % (key, value))
            if isinstance(default, int) and not isinstance(value, int):
                raise ConfigError('%s must be a whole number, not %r' % (key, value))
            config[key] = type(default)(value)
        elif isinstance(default, list):
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise ConfigError('%s must be a list of strings, not %r' % (key, value))
        elif not isinstance(value, str):
            raise ConfigError('%s must be a string, not %r' % (key, value))
    if not config['hub_url']:
        raise ConfigError('hub_url is required: the JupyterHub that owns the tokens')
    for key in ('hub_url', 'livy_url'):
        parts = urlsplit(config[key])
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise ConfigError('%s must be an http:// or https:// URL, not %r' % (key, config[key]))
    if urlsplit(config['livy_url']).scheme != 'http':
        raise ConfigError('livy_url must be http:// (Livy listens on loopback behind the gate)')
    if config['workers'] > 64:
        raise ConfigError('workers must be a whole number from 1 to 64, not %r' % config['workers'])
    if config['listen_port'] > 65535:
        raise ConfigError('listen_port must be at most 65535, not %d' % config['listen_port'])
    if config['cache_seconds'] > MAX_CACHE_SECONDS:
        raise ConfigError('cache_seconds must be at most %d, so that a revoked token stops working soon; got %s'
                          % (MAX_CACHE_SECONDS, config['cache_seconds']))
    if config['owner_cache_seconds'] > MAX_OWNER_CACHE_SECONDS:
        raise ConfigError('owner_cache_seconds must be at most %s, less than Livy needs to restart and reuse an id;'
                          ' got %s' % (MAX_OWNER_CACHE_SECONDS, config['owner_cache_seconds']))
    if bool(config['tls_cert']) != bool(config['tls_key']):
        raise ConfigError('tls_cert and tls_key go together')
    for pattern in config['allow_paths']:
        if not pattern.startswith('/') or not PATH_CHARS.match(pattern):
            raise ConfigError('allow_paths entries are path prefixes such as /ui, not %r' % pattern)
    return config


# ---------------------------------------------------------------------------------------------
# Who is calling


def parse_credentials(header):
    """(user name or None, token) from an Authorization header; Refusal(401) when unusable.

    Basic carries NAME:TOKEN (sparkmagic's Basic_Access); `token T` carries the token alone, and the
    hub's answer then names the user.
    """
    if not header:
        raise Refusal(401, 'credentials required: HTTP Basic with your JupyterHub user name and an API token',
                      'no credentials')
    scheme, dummy, value = header.strip().partition(' ')
    scheme = scheme.lower()
    value = value.strip()
    if scheme == 'basic':
        try:
            decoded = base64.b64decode(value, validate=True).decode('utf-8')
        except (binascii.Error, ValueError):
            raise Refusal(401, 'malformed Basic credentials', 'malformed basic credentials')
        user, sep, token = decoded.partition(':')
        if not sep or not user or not token:
            raise Refusal(401, 'Basic credentials must be USER:TOKEN', 'malformed basic credentials')
        return user, token
    if scheme == 'token':
        if not value or ' ' in value:
            raise Refusal(401, 'malformed token credentials', 'malformed token credentials')
        return None, value
    raise Refusal(401, 'unsupported authorization scheme; use Basic or token', 'unsupported scheme')


class Identity:
    """An authenticated caller: the hub user's name, and whether they may see every user's objects."""

    __slots__ = ('name', 'sees_all')

    def __init__(self, name, sees_all=False):
        self.name = name
        self.sees_all = sees_all

    def __repr__(self):
        return 'Identity(%r, sees_all=%r)' % (self.name, self.sees_all)


class TimedCache:
    """A mapping bounded in size and in the age of its entries (least recently used goes first).

    `clock` is injectable for tests.
    """

    def __init__(self, max_entries, max_age, clock=time.monotonic):
        self.max_entries = int(max_entries)
        self.max_age = float(max_age)
        self.clock = clock
        self._entries = collections.OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(value):
        return value

    def drop(self, value):
        with self._lock:
            self._entries.pop(self.key(value), None)

    def get(self, token):
        key = self.key(token)
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored, model = entry
            if self.clock() - stored >= self.max_age:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return model

    def put(self, token, model):
        key = self.key(token)
        with self._lock:
            self._entries[key] = (self.clock(), model)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self):
        return len(self._entries)


class AuthCache(TimedCache):
    """Token -> hub user model. Keys are SHA-256 digests, so the cache holds no token."""

    @staticmethod
    def key(value):
        return hashlib.sha256(value.encode('utf-8')).digest()


class Authenticator:
    """Credentials -> Identity, through the cache and the hub's whoami (`whoami(token)`).

    `whoami` returns the hub's user model, None when the hub does not accept the token, or raises
    HubUnavailable. Only accepted tokens are cached, so a wrong token is asked about every time.
    """

    def __init__(self, whoami, cache, admins_see_all=False):
        self.whoami = whoami
        self.cache = cache
        self.admins_see_all = admins_see_all

    def identify(self, header):
        claimed, token = parse_credentials(header)
        model = self.cache.get(token)
        if model is None:
            try:
                model = self.whoami(token)
            except HubUnavailable as exc:
                raise Refusal(503, 'JupyterHub cannot be reached to check your token; try again later',
                              'hub unavailable: %s' % exc)
            if model is None:
                raise Refusal(401, 'the token is not valid (wrong, expired or revoked)', 'token refused by the hub')
            if not isinstance(model, dict) or not isinstance(model.get('name'), str) or model.get('kind', 'user') != 'user':
                raise Refusal(401, 'the token does not belong to a hub user', 'token of a non-user')
            self.cache.put(token, model)
        owner = model['name']
        if claimed is not None and claimed != owner:
            raise Refusal(401, 'the token does not belong to user %s' % claimed,
                          'token of %s presented as %s' % (owner, claimed))
        return Identity(owner, sees_all=self.admins_see_all and model.get('admin') is True)


# ---------------------------------------------------------------------------------------------
# What they may do


class Route:
    """What a request is: `kind` is one of 'list', 'create', 'object', 'open', 'version'."""

    __slots__ = ('kind', 'collection', 'object_id', 'subpath')

    def __init__(self, kind, collection=None, object_id=None, subpath=''):
        self.kind = kind
        self.collection = collection
        self.object_id = object_id
        self.subpath = subpath

    def __eq__(self, other):
        return isinstance(other, Route) and all(getattr(self, s) == getattr(other, s) for s in self.__slots__)

    def __repr__(self):
        return 'Route(%r, %r, %r, %r)' % (self.kind, self.collection, self.object_id, self.subpath)


def route(method, path, query, allow_paths=()):
    """The Route of a request, or Refusal. `query` is a list of (name, value) pairs."""
    if any(name.lower() == 'doas' for name, dummy in query):
        raise Refusal(403, 'doAs is not accepted: your sessions and batches run as you', 'doAs in query')
    if not PATH_CHARS.match(path) or '//' in path or any(part in ('.', '..') for part in path.split('/')):
        raise Refusal(400, 'unsupported characters in the path %s' % path[:200], 'bad path')
    if method not in ('GET', 'POST', 'DELETE', 'HEAD'):
        raise Refusal(405, 'method %s is not supported' % method, 'method')
    match = COLLECTION.match(path)
    if match:
        collection = match.group(1)
        if method in ('GET', 'HEAD'):
            return Route('list', collection)
        if method == 'POST':
            return Route('create', collection)
        raise Refusal(405, 'method %s is not supported on /%s' % (method, collection), 'method')
    match = OBJECT.match(path)
    if match:
        return Route('object', match.group(1), int(match.group(2)), (match.group(3) or '').rstrip('/'))
    if path == '/version' and method in ('GET', 'HEAD'):
        return Route('version')
    for prefix in allow_paths:
        if path == prefix or path.startswith(prefix.rstrip('/') + '/'):
            return Route('open')
    raise Refusal(403, 'the gate does not forward %s' % path[:200], 'path not allowed')


def duplicate_keys_refused(pairs):
    keys = [key for key, dummy in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError('duplicate key %s' % sorted(key for key in set(keys) if keys.count(key) > 1)[0])
    return dict(pairs)


def create_body(raw, identity, collection):
    """The body to send Livy for a new session or batch: proxyUser is the caller, or Refusal.

    Re-serialised from what was checked, so Livy parses exactly the object the gate decided on
    (a duplicated key cannot carry a second proxyUser past the check).
    """
    what = SINGULAR[collection]
    try:
        body = json.loads(raw.decode('utf-8') if raw else '{}', object_pairs_hook=duplicate_keys_refused)
    except (UnicodeDecodeError, ValueError) as exc:
        raise Refusal(400, 'the %s request is not valid JSON: %s' % (what, exc), 'bad json')
    if not isinstance(body, dict):
        raise Refusal(400, 'the %s request must be a JSON object' % what, 'bad json')
    asked = body.get('proxyUser')
    if asked is not None and asked != identity.name:
        raise Refusal(403, 'you (%s) cannot start a %s as %s: proxyUser must be your own user name'
                      % (identity.name, what, str(asked)[:100]), 'proxyUser %s refused' % str(asked)[:100])
    body['proxyUser'] = identity.name
    return json.dumps(body).encode('utf-8')


def may_use(identity, owner):
    """Whether `identity` may read or act on an object whose proxyUser is `owner`."""
    return identity.sees_all or (owner is not None and owner == identity.name)


def listing_query(query):
    """(from, size) the client asked for, and the query the gate sends Livy for the whole listing."""
    params = dict(query)
    try:
        start = max(int(params.get('from', 0)), 0)
        size = int(params['size']) if 'size' in params else 100
    except ValueError:
        raise Refusal(400, 'from and size must be integers', 'bad listing query')
    if size < 0:
        raise Refusal(400, 'size must not be negative', 'bad listing query')
    return start, size, urlencode({'from': 0, 'size': LISTING_FETCH_SIZE})


def filter_listing(document, identity, start, size):
    """Livy's listing ({"from", "total", "sessions": [...]}) with only the caller's objects, paged."""
    items = document.get('sessions') if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ValueError('Livy listing without a sessions list')
    mine = [item for item in items if isinstance(item, dict) and may_use(identity, item.get('proxyUser'))]
    return {'from': start, 'total': len(mine), 'sessions': mine[start:start + size]}


# ---------------------------------------------------------------------------------------------
# HTTP plumbing


def _ssl_context(validate, ca_path):
    if not validate:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    return ssl.create_default_context(cafile=ca_path or None)


def _connection(url, timeout, context=None):
    parts = urlsplit(url)
    if parts.scheme == 'https':
        return http.client.HTTPSConnection(parts.hostname, parts.port or 443, timeout=timeout, context=context)
    return http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=timeout)


class ConnectionPool:
    """Keep-alive connections to one server, reused across requests; idle ones are dropped early,
    before the server closes them itself."""

    def __init__(self, url, timeout, context=None, size=64, max_idle=10.0):
        self.url = url
        self.prefix = urlsplit(url).path.rstrip('/')
        self.timeout = timeout
        self.context = context
        self.max_idle = max_idle
        self._idle = queue.LifoQueue(size)

    def request(self, method, path, body=None, headers=None):
        """(status, [(header, value)], body bytes). Raises OSError/HTTPException when unreachable."""
        headers = dict(headers or {})
        retried = False
        while True:
            conn, reused = self._get()
            try:
                conn.request(method, self.prefix + path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                # A kept-alive connection the server had closed: the request never reached it.
                if reused and not retried and method in ('GET', 'HEAD', 'DELETE'):
                    retried = True
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            else:
                self._put(conn)
            return response.status, response.getheaders(), data

    def _get(self):
        while True:
            try:
                conn, idle_since = self._idle.get_nowait()
            except queue.Empty:
                return _connection(self.url, self.timeout, self.context), False
            if time.monotonic() - idle_since < self.max_idle:
                return conn, True
            conn.close()

    def _put(self, conn):
        try:
            self._idle.put_nowait((conn, time.monotonic()))
        except queue.Full:
            conn.close()


class HubClient:
    """GET /hub/api/user with a token: the owner's model, None when refused, HubUnavailable else."""

    def __init__(self, hub_url, timeout, validate_certs=True, ca_path=''):
        context = _ssl_context(validate_certs, ca_path) if hub_url.startswith('https') else None
        self.pool = ConnectionPool(hub_url.rstrip('/') + '/hub/api', timeout, context)

    def whoami(self, token):
        try:
            headers = {'Authorization': 'token ' + token, 'Accept': 'application/json'}
            status, dummy, data = self.pool.request('GET', '/user', headers=headers)
        except (OSError, http.client.HTTPException) as exc:
            # The exception text names the address, never the token.
            raise HubUnavailable(type(exc).__name__)
        if status in (401, 403):
            return None
        if status != 200:
            raise HubUnavailable('hub answered %d' % status)
        try:
            return json.loads(data.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise HubUnavailable('hub answered with a non-JSON body')


class Gate:
    """The request decisions with their upstream calls; `livy` is a ConnectionPool-like object."""

    def __init__(self, config, authenticator, livy, owners=None):
        self.config = config
        self.authenticator = authenticator
        self.livy = livy
        # (collection, id) -> proxyUser; a poll inside a session needs no second Livy request.
        self.owners = owners if owners is not None else TimedCache(config['cache_size'], config['owner_cache_seconds'])

    def handle(self, method, target, headers, read_body):
        """(status, [(header, value)], body bytes, user or None, reason). Never raises for a request."""
        user = None
        try:
            parts = urlsplit(target)
            path = parts.path or '/'
            query = parse_qsl(parts.query, keep_blank_values=True)
            identity = self.authenticator.identify(headers.get('authorization'))
            user = identity.name
            where = route(method, path, query, self.config['allow_paths'])
            raw = read_body()
            status, out_headers, body = self._dispatch(method, path, parts.query, query, where, identity, raw, headers)
            return status, out_headers, body, user, 'forwarded'
        except Refusal as refusal:
            out = json.dumps({'msg': refusal.message}).encode('utf-8')
            extra = [('WWW-Authenticate', 'Basic realm="livy"')] if refusal.status == 401 else []
            return refusal.status, [('Content-Type', 'application/json')] + extra, out, user, refusal.reason
        except (OSError, http.client.HTTPException) as exc:
            out = json.dumps({'msg': 'Livy cannot be reached behind the gate'}).encode('utf-8')
            return 502, [('Content-Type', 'application/json')], out, user, 'livy unavailable: %s' % type(exc).__name__

    def _forward_headers(self, headers):
        return {name: value for name, value in headers.items() if name in FORWARD_REQUEST_HEADERS}

    def _dispatch(self, method, path, raw_query, query, where, identity, raw, headers):
        forward = self._forward_headers(headers)
        suffix = '?' + raw_query if raw_query else ''
        if where.kind == 'create':
            body = create_body(raw, identity, where.collection)
            forward['content-type'] = 'application/json'
            return self.livy.request('POST', path, body=body, headers=forward)
        if where.kind == 'list':
            start, size, livy_query = listing_query(query)
            status, out_headers, data = self.livy.request('GET', '/%s?%s' % (where.collection, livy_query),
                                                          headers={'accept': 'application/json'})
            if status != 200:
                return status, out_headers, data
            try:
                listing = filter_listing(json.loads(data.decode('utf-8')), identity, start, size)
            except (UnicodeDecodeError, ValueError):
                raise Refusal(502, 'Livy answered the listing with something the gate cannot read', 'bad listing')
            return 200, [('Content-Type', 'application/json')], json.dumps(listing).encode('utf-8')
        if where.kind == 'object':
            what = SINGULAR[where.collection]
            key = (where.collection, where.object_id)
            plain_get = method == 'GET' and not where.subpath and not raw_query
            owner = None if plain_get else self.owners.get(key)
            if owner is None:
                status, out_headers, data = self.livy.request('GET', '/%s/%d' % key, headers={'accept': 'application/json'})
                if status == 404:
                    return status, out_headers, data
                if status != 200:
                    raise Refusal(502, 'Livy did not say who owns %s %d' % (what, where.object_id), 'owner lookup %d' % status)
                try:
                    owner = json.loads(data.decode('utf-8')).get('proxyUser')
                except (UnicodeDecodeError, ValueError, AttributeError):
                    raise Refusal(502, 'Livy did not say who owns %s %d' % (what, where.object_id), 'owner lookup unreadable')
                if isinstance(owner, str):
                    self.owners.put(key, owner)
            if not may_use(identity, owner):
                raise Refusal(403, '%s %d is not yours' % (what, where.object_id),
                              '%s %d of %s refused' % (what, where.object_id, owner))
            if plain_get:
                return status, out_headers, data
            if method == 'DELETE':
                self.owners.drop(key)
        # 'object' (owner checked), 'version', 'open': forwarded as they are.
        return self.livy.request(method, path + suffix, body=raw if method == 'POST' else None, headers=forward)


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server_version = 'livy-gate'
    sys_version = ''
    # Headers and body leave in one write, without Nagle's delay: small answers would otherwise
    # wait for the client's delayed ACK (40 ms on Linux) on every keep-alive request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def _serve(self):
        began = time.monotonic()
        gate = self.server.gate
        headers = {name.lower(): value for name, value in self.headers.items()}
        if not self.server.slots.acquire(timeout=5):
            self._reply(503, [('Content-Type', 'application/json')], b'{"msg": "the gate is busy"}', None,
                        'busy', began)
            return
        self._body_read = False
        try:
            status, out_headers, body, user, reason = gate.handle(self.command, self.path, headers, self._read_body)
        finally:
            self.server.slots.release()
        if not self._body_read and (self.headers.get('Content-Length', '0') != '0' or self.headers.get('Transfer-Encoding')):
            # A refused request's body is still on the wire: this connection cannot carry another request.
            self.close_connection = True
        self._reply(status, out_headers, body, user, reason, began)

    def _read_body(self):
        if self.headers.get('Transfer-Encoding'):
            raise Refusal(411, 'send the request with a Content-Length', 'chunked body')
        length = self.headers.get('Content-Length')
        if not length:
            self._body_read = True
            return b''
        try:
            length = int(length)
        except ValueError:
            raise Refusal(400, 'bad Content-Length', 'bad content-length')
        limit = self.server.gate.config['max_body_bytes']
        if length < 0 or length > limit:
            raise Refusal(413, 'request body larger than %d bytes' % limit, 'body too large')
        data = self.rfile.read(length)
        self._body_read = True
        return data

    def _reply(self, status, headers, body, user, reason, began):
        self.send_response(status)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header('Content-Length', str(len(body)))
        if self.close_connection:
            self.send_header('Connection', 'close')
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(body)
        # The audit line: who, what, the outcome. The path only: the query is the client's.
        LOG.info('user=%s method=%s path=%s status=%d ms=%.1f client=%s outcome="%s"',
                 user or '-', self.command, urlsplit(self.path).path[:200], status,
                 (time.monotonic() - began) * 1000, self.client_address[0], reason)

    do_GET = do_POST = do_DELETE = do_HEAD = _serve

    def do_PUT(self):
        self._serve()

    do_PATCH = do_OPTIONS = do_PUT

    def log_request(self, code='-', size='-'):
        # The audit line in _reply replaces the standard request log (which names no user).
        pass

    def log_message(self, format, *args):  # noqa: A002 - BaseHTTPRequestHandler's signature
        LOG.warning('client=%s %s', self.client_address[0], format % args)


class GateServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, config, gate):
        self.gate = gate
        self.slots = threading.BoundedSemaphore(config['max_clients'])
        self.client_timeout = config['client_timeout']
        family = socket.AF_INET6 if ':' in config['listen_host'] else socket.AF_INET
        self.address_family = family
        super().__init__((config['listen_host'], config['listen_port']), Handler)
        if config['tls_cert']:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_cert_chain(config['tls_cert'], config['tls_key'])
            self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def finish_request(self, request, client_address):
        # A client that stops talking cannot hold a thread for ever.
        request.settimeout(self.client_timeout)
        if isinstance(request, ssl.SSLSocket):
            try:
                request.do_handshake()
            except (OSError, ssl.SSLError):
                return
        super().finish_request(request, client_address)


def build(config):
    """The server for a loaded config (not yet serving)."""
    cache = AuthCache(config['cache_size'], config['cache_seconds'])
    hub = HubClient(config['hub_url'], config['hub_timeout'], config['hub_validate_certs'], config['hub_ca'])
    authenticator = Authenticator(hub.whoami, cache, config['admins_see_all'])
    livy = ConnectionPool(config['livy_url'], config['livy_timeout'])
    return GateServer(config, Gate(config, authenticator, livy))


def main(argv=None):
    parser = argparse.ArgumentParser(description='Authenticating gate in front of Livy')
    parser.add_argument('--config', required=True, help='JSON settings file')
    parser.add_argument('--check', action='store_true', help='check the settings and exit')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(name)s %(levelname)s %(message)s',
                        stream=sys.stderr)
    try:
        with open(args.config, encoding='utf-8') as handle:
            config = load_config(json.load(handle))
    except (OSError, ValueError, ConfigError) as exc:
        LOG.error('%s: %s', args.config, exc)
        return 2
    if args.check:
        return 0
    try:
        server = build(config)
    except (OSError, ssl.SSLError) as exc:
        LOG.error('cannot listen on %s:%d: %s', config['listen_host'], config['listen_port'], exc)
        return 1
    LOG.info('listening on %s:%d (%s, %d worker process%s), Livy at %s, hub at %s', config['listen_host'],
             server.server_address[1], 'TLS' if config['tls_cert'] else 'plain HTTP', config['workers'],
             '' if config['workers'] == 1 else 'es', config['livy_url'], config['hub_url'])
    # Python runs one thread at a time: further processes on the same listening socket use more cores.
    # Each keeps its own caches; the hub sees at most one check per token and worker.
    children = []
    for dummy in range(config['workers'] - 1):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                server.serve_forever()
            finally:
                os._exit(0)
        children.append(pid)

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
        server.server_close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
