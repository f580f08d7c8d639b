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
cache, routing, policy, listing filters) are plain functions and classes without sockets, and a
request's whole decision is one generator (Gate.flow) that asks for what it needs. The server at
the end drives it: one asyncio event loop per worker process, its own HTTP/1.1 reading and writing
(strict where a lenient reading could smuggle a request), kept-alive connections to Livy from the
same loop, and threads only for the hub's token checks. Run:
python3 livy_gate.py --config /etc/livy-gate/gate.json
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import collections
import concurrent.futures
import email.utils
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
from http import HTTPStatus
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
        return self._identity(claimed, model)

    def identify_cached(self, header):
        """The Identity when the cache knows the token, None when only the hub can tell (call identify,
        which may block on the hub); Refusal as identify."""
        claimed, token = parse_credentials(header)
        model = self.cache.get(token)
        return None if model is None else self._identity(claimed, model)

    def _identity(self, claimed, model):
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
    if (not PATH_CHARS.match(path) or '//' in path
            or ('/.' in path and any(part in ('.', '..') for part in path.split('/')))):
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


# What a request's flow (Gate.flow) asks of the server that drives it; the answer is sent back in.
ASK_IDENTITY = 'identity'   # (ASK_IDENTITY, authorization header) -> Identity; may wait for the hub
ASK_BODY = 'body'           # (ASK_BODY,) -> the request body, bounded; may wait for the client
ASK_LIVY = 'livy'           # (ASK_LIVY, method, path, body, headers) -> (status, [(header, value)], body)


class Gate:
    """The request decisions with their upstream calls.

    `flow` is the decision for one request, written without I/O: a generator that yields what it
    needs (the caller's identity when the cache does not know the token, the body, a Livy request)
    and is sent the answer, or has the error thrown in. The event-loop server drives it without
    blocking; `handle` drives it synchronously with `livy` (a ConnectionPool-like object), for tools
    and tests. Both run the same decisions.
    """

    def __init__(self, config, authenticator, livy=None, owners=None):
        self.config = config
        self.authenticator = authenticator
        self.livy = livy
        # (collection, id) -> proxyUser; a poll inside a session needs no second Livy request.
        self.owners = owners if owners is not None else TimedCache(config['cache_size'], config['owner_cache_seconds'])

    def handle(self, method, target, headers, read_body):
        """(status, [(header, value)], body bytes, user or None, reason). Never raises for a request."""
        flow = self.flow(method, target, headers)
        answer = error = None
        while True:
            try:
                ask = flow.send(answer) if error is None else flow.throw(error)
            except StopIteration as done:
                return done.value
            answer = error = None
            # Whatever it raises is handed to the flow, which decides.
            try:
                if ask[0] == ASK_IDENTITY:
                    answer = self.authenticator.identify(ask[1])
                elif ask[0] == ASK_BODY:
                    answer = read_body()
                else:
                    answer = self.livy.request(*ask[1:])
            except Exception as exc:  # pylint: disable=broad-except
                error = exc

    def flow(self, method, target, headers):
        """The generator deciding one request; returns what handle returns."""
        user = None
        try:
            parts = urlsplit(target)
            path = parts.path or '/'
            query = parse_qsl(parts.query, keep_blank_values=True) if parts.query else []
            header = headers.get('authorization')
            identity = self.authenticator.identify_cached(header)
            if identity is None:
                identity = yield (ASK_IDENTITY, header)
            user = identity.name
            where = route(method, path, query, self.config['allow_paths'])
            raw = yield (ASK_BODY,)
            status, out_headers, body = yield from self._dispatch(method, path, parts.query, query, where, identity,
                                                                  raw, headers)
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
            return (yield (ASK_LIVY, 'POST', path, body, forward))
        if where.kind == 'list':
            start, size, livy_query = listing_query(query)
            status, out_headers, data = yield (ASK_LIVY, 'GET', '/%s?%s' % (where.collection, livy_query), None,
                                               {'accept': 'application/json'})
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
                status, out_headers, data = yield (ASK_LIVY, 'GET', '/%s/%d' % key, None, {'accept': 'application/json'})
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
        return (yield (ASK_LIVY, method, path + suffix, raw if method == 'POST' else None, forward))


# ---------------------------------------------------------------------------------------------
# The server: each worker process runs one event loop; no thread per client or per request.
# Requests are read and answered in the loop, Livy is reached over kept-alive connections from the
# same loop, and only the hub's token checks (cache misses) run in a small pool of threads.

# A request head above this size is refused (431), as http.server refuses a line above 64 KiB.
MAX_HEAD_BYTES = 64 * 1024
MAX_HEADERS = 100
# A response head from Livy above this size is taken as a broken Livy.
MAX_RESPONSE_HEAD_BYTES = 256 * 1024
# Threads asking the hub about tokens the cache does not know, per worker process.
HUB_THREADS = 16
# A request that finds max_clients requests in progress waits at most this long for its turn.
BUSY_WAIT_SECONDS = 5.0
# How often idle clients, queued requests and the deadlines of Livy calls are looked at: a timeout
# ends up to this much late.
SWEEP_SECONDS = 0.25
TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")   # used with fullmatch
# What a request head may hold besides its CRLF line ends: visible ASCII, space and tab. Anything
# else is refused, a bare CR or LF above all: in a header value it would become a header of its own
# on the way to Livy.
HEAD_BYTES = bytes(range(0x20, 0x7f)) + b'\t'
# Headers that must not come twice (two Content-Lengths are how requests are smuggled).
SINGLE_HEADERS = frozenset(('authorization', 'content-length', 'transfer-encoding', 'host', 'content-type'))
REASONS = {status.value: status.phrase for status in HTTPStatus}
IDEMPOTENT = frozenset(('GET', 'HEAD', 'DELETE'))


class BadRequest(Exception):
    """A request head the gate cannot read: answered with `status`, and the connection closed."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def parse_head(head):
    """(method, target, version, {lower-case name: value}) of a request head (without its blank line).

    Strict where a lenient reading could smuggle a request past the gate or a header to Livy:
    control characters, bare CR or LF, folded lines, space before the colon, non-ASCII bytes and a
    repeated Content-Length, Transfer-Encoding, Authorization, Host or Content-Type are refused.
    """
    if head.replace(b'\r\n', b'').translate(None, HEAD_BYTES):
        raise BadRequest(400, 'control or non-ASCII characters in the request head')
    lines = head.split(b'\r\n')
    if len(lines) - 1 > MAX_HEADERS:
        raise BadRequest(431, 'more than %d headers' % MAX_HEADERS)
    parts = lines[0].split(b' ')
    if len(parts) != 3 or not TOKEN.fullmatch(parts[0]) or not parts[1]:
        raise BadRequest(400, 'bad request line')
    method, target, version = parts
    if version not in (b'HTTP/1.1', b'HTTP/1.0'):
        raise BadRequest(505, 'only HTTP/1.0 and HTTP/1.1 are spoken here')
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(b':')
        if not sep or not TOKEN.fullmatch(name):
            raise BadRequest(400, 'bad header line')
        key = name.decode('ascii').lower()
        value = value.strip(b' \t').decode('ascii')
        if key in headers:
            if key in SINGLE_HEADERS:
                raise BadRequest(400, 'repeated %s header' % key)
            headers[key] += ', ' + value
        else:
            headers[key] = value
    target = target.decode('ascii')
    if target.startswith('//'):
        # As http.server does: '//host/x' would otherwise read as a host name.
        target = '/' + target.lstrip('/')
    return method.decode('ascii'), target, version.decode('ascii'), headers


def body_length(headers, limit):
    """The request body's length from its headers; Refusal when it cannot or must not be read."""
    if 'transfer-encoding' in headers:
        raise Refusal(411, 'send the request with a Content-Length', 'chunked body')
    length = headers.get('content-length')
    if not length:
        return 0
    if not length.isdigit() or not length.isascii():
        raise Refusal(400, 'bad Content-Length', 'bad content-length')
    length = int(length)
    if length > limit:
        raise Refusal(413, 'request body larger than %d bytes' % limit, 'body too large')
    return length


def keeps_alive(version, headers):
    tokens = headers.get('connection', '').lower()
    if version == 'HTTP/1.1':
        return 'close' not in tokens
    return 'keep-alive' in tokens


def _printable(text):
    """Text for the audit line: one line whatever the hostile input it quotes."""
    return text if text.isprintable() else text.encode('unicode_escape').decode('ascii')


class AuditLog:
    """The audit trail: one line a request, in the format of the gate's other log lines.

    Lines of one turn of the event loop leave in one write, before the answers of that turn
    (GateServer.deliver).
    """

    def __init__(self, loop, stream):
        self.loop = loop
        self.stream = stream
        self.lines = []
        self.second = None
        self.stamp = ''

    def line(self, user, method, path, status, ms, client, outcome):
        now = time.time()
        second = int(now)
        if second != self.second:
            self.second = second
            self.stamp = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(second))
        if not self.lines:
            self.loop.call_soon(self.flush)
        self.lines.append('%s,%03d livy_gate INFO user=%s method=%s path=%s status=%d ms=%.1f client=%s outcome="%s"\n' % (
            self.stamp, int((now - second) * 1000), _printable(user or '-'), method, _printable(path), status, ms,
            client, _printable(outcome)))

    def flush(self):
        lines, self.lines = self.lines, []
        if lines:
            self.stream.write(''.join(lines))
            self.stream.flush()


class LivyCall:
    """One request to Livy: its bytes, the callback for its outcome, its deadline."""

    __slots__ = ('pool', 'method', 'data', 'done', 'deadline', 'conn', 'reused', 'retried', 'finished')

    def __init__(self, pool, method, data, done, deadline):
        self.pool = pool
        self.method = method
        self.data = data
        self.done = done
        self.deadline = deadline
        self.conn = None
        self.reused = False
        self.retried = False
        self.finished = False

    def finish(self, result, error):
        if self.finished:
            return
        self.finished = True
        self.pool.calls.discard(self)
        self.done(result, error)

    def timed_out(self):
        if self.conn is not None:
            self.conn.drop()
        self.finish(None, TimeoutError('Livy did not answer within %s s' % self.pool.timeout))


class LivyConnection(asyncio.Protocol):
    """A kept-alive connection to Livy, carrying one LivyCall at a time; reads Livy's answers
    (Content-Length, chunked, or until close)."""

    def __init__(self, pool):
        self.pool = pool
        self.transport = None
        self.call = None
        self.buffer = bytearray()
        self.closed = False
        self.idle_since = 0.0
        self._reset()

    def _reset(self):
        self.status = None
        self.headers = None
        self.remaining = None
        self.chunked = False
        self.chunk_left = 0
        self.chunk_end = False
        self.trailer = False
        self.body = bytearray()
        self.will_close = False
        self.received = False

    def connection_made(self, transport):
        self.transport = transport

    def send(self, call):
        self.call = call
        call.conn = self
        self._reset()
        self.transport.write(call.data)

    def drop(self):
        self.call = None
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data):
        if self.call is None:
            # Livy speaks without being asked: this connection is no longer in step.
            self.drop()
            return
        self.received = True
        self.buffer += data
        try:
            self._parse()
        except (ValueError, http.client.HTTPException) as exc:
            call = self.call
            self.drop()
            call.finish(None, exc if isinstance(exc, http.client.HTTPException) else http.client.BadStatusLine(str(exc)))

    def _parse(self):
        buf = self.buffer
        while self.status is None:
            end = buf.find(b'\r\n\r\n')
            if end < 0:
                if len(buf) > MAX_RESPONSE_HEAD_BYTES:
                    raise http.client.LineTooLong('Livy response head')
                return
            lines = bytes(buf[:end]).split(b'\r\n')
            del buf[:end + 4]
            version, dummy, rest = lines[0].partition(b' ')
            code = rest[:3]
            if not version.startswith(b'HTTP/1.') or len(code) != 3 or not code.isdigit():
                raise http.client.BadStatusLine(lines[0][:100].decode('latin-1'))
            status = int(code)
            if 100 <= status < 200:
                continue
            headers = []
            length = encoding = None
            connection = ''
            for line in lines[1:]:
                name, sep, value = line.partition(b':')
                if not sep:
                    raise http.client.HTTPException('bad header line from Livy')
                name = name.strip().decode('latin-1')
                value = value.strip().decode('latin-1')
                lower = name.lower()
                if lower == 'content-length':
                    length = value
                elif lower == 'transfer-encoding':
                    encoding = value.lower()
                elif lower == 'connection':
                    connection = value.lower()
                headers.append((name, value))
            self.status, self.headers = status, headers
            self.will_close = 'close' in connection or (version == b'HTTP/1.0' and 'keep-alive' not in connection)
            if self.call.method == 'HEAD' or status in (204, 304):
                self.remaining = 0
            elif encoding is not None and 'chunked' in encoding:
                self.chunked = True
            elif length is not None:
                if not length.isdigit():
                    raise http.client.HTTPException('bad Content-Length from Livy')
                self.remaining = int(length)
            else:
                self.will_close = True   # the body ends when Livy closes the connection
        if self.chunked:
            self._parse_chunks()
        elif self.remaining is not None and len(buf) >= self.remaining:
            body = bytes(buf[:self.remaining])
            del buf[:self.remaining]
            self._complete(body)

    def _parse_chunks(self):
        buf = self.buffer
        while True:
            if self.chunk_left:
                taken = buf[:self.chunk_left]
                del buf[:len(taken)]
                self.body += taken
                self.chunk_left -= len(taken)
                if self.chunk_left:
                    return
                self.chunk_end = True
            if self.chunk_end:
                if len(buf) < 2:
                    return
                if buf[:2] != b'\r\n':
                    raise http.client.HTTPException('bad chunk from Livy')
                del buf[:2]
                self.chunk_end = False
            end = buf.find(b'\r\n')
            if end < 0:
                if len(buf) > MAX_RESPONSE_HEAD_BYTES:
                    raise http.client.LineTooLong('Livy chunk line')
                return
            line = bytes(buf[:end])
            del buf[:end + 2]
            if self.trailer:
                if not line:
                    self._complete(bytes(self.body))
                    return
                continue
            size = int(line.split(b';', 1)[0].strip(), 16)
            if size == 0:
                self.trailer = True
            else:
                self.chunk_left = size

    def _complete(self, body):
        call, self.call = self.call, None
        result = (self.status, self.headers, body)
        if self.will_close or self.buffer:
            self.drop()
        else:
            self.pool.put(self)
        call.finish(result, None)

    def connection_lost(self, exc):
        self.closed = True
        call, self.call = self.call, None
        if call is None:
            return
        if self.status is not None and self.remaining is None and not self.chunked:
            call.finish((self.status, self.headers, bytes(self.buffer)), None)
        elif not self.received:
            self.pool.failed(call, http.client.RemoteDisconnected('Livy closed the connection without answering'))
        else:
            call.finish(None, http.client.IncompleteRead(bytes(self.buffer)))


class LivyPool:
    """Kept-alive connections to Livy for one event loop. `request` takes a callback, called with
    ((status, [(header, value)], body), None) or (None, exception)."""

    def __init__(self, loop, url, timeout, size=64, max_idle=10.0):
        parts = urlsplit(url)
        self.loop = loop
        self.host = parts.hostname
        self.port = parts.port or 80
        self.prefix = parts.path.rstrip('/')
        self.host_header = parts.netloc
        self.timeout = timeout
        self.size = size
        self.max_idle = max_idle
        self.idle = []
        self.calls = set()   # in progress
        self.ticker = None

    def request(self, method, path, body, headers, done):
        lines = ['%s %s%s HTTP/1.1\r\nHost: %s\r\n' % (method, self.prefix, path, self.host_header)]
        for name, value in headers.items():
            lines.append('%s: %s\r\n' % (name, value))
        if body is not None or method == 'POST':
            lines.append('Content-Length: %d\r\n' % len(body or b''))
        lines.append('\r\n')
        data = ''.join(lines).encode('ascii')
        if body:
            data += body
        call = LivyCall(self, method, data, done, self.loop.time() + self.timeout)
        self.calls.add(call)
        if self.ticker is None:
            self.ticker = self.loop.call_later(SWEEP_SECONDS, self._expire)
        self._send(call)

    def _expire(self):
        # One timer for all calls in progress, rather than one a call: a deadline ends up to
        # SWEEP_SECONDS late.
        now = self.loop.time()
        for call in [call for call in self.calls if call.deadline <= now]:
            call.timed_out()
        self.ticker = self.loop.call_later(SWEEP_SECONDS, self._expire) if self.calls else None

    def _send(self, call):
        now = self.loop.time()
        while self.idle:
            conn = self.idle.pop()
            if not conn.closed and not conn.transport.is_closing() and now - conn.idle_since < self.max_idle:
                call.reused = True
                conn.send(call)
                return
            conn.drop()
        call.reused = False
        self.loop.create_task(self._connect(call))

    async def _connect(self, call):
        try:
            dummy, conn = await self.loop.create_connection(lambda: LivyConnection(self), self.host, self.port)
        except OSError as exc:
            call.finish(None, exc)
            return
        if call.finished:
            self.put(conn)
        else:
            conn.send(call)

    def put(self, conn):
        if len(self.idle) >= self.size:
            conn.drop()
            return
        conn.idle_since = self.loop.time()
        self.idle.append(conn)

    def failed(self, call, error):
        # A kept-alive connection that Livy had closed: the request never reached it.
        if call.reused and not call.retried and call.method in IDEMPOTENT and not call.finished:
            call.retried = True
            call.conn = None
            self.loop.create_task(self._connect(call))
            return
        call.finish(None, error)

    def close(self):
        if self.ticker is not None:
            self.ticker.cancel()
        for conn in self.idle:
            conn.drop()
        self.idle = []


class Exchange:
    """One request on a client connection, while the gate's flow decides it."""

    __slots__ = ('conn', 'method', 'target', 'version', 'headers', 'began', 'flow', 'keep_alive', 'body_read',
                 'want_body')

    def __init__(self, conn, method, target, version, headers, began):
        self.conn = conn
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.began = began
        self.flow = None
        self.keep_alive = keeps_alive(version, headers)
        self.body_read = False
        self.want_body = None

    def start(self):
        self.flow = self.conn.server.gate.flow(self.method, self.target, self.headers)
        self.advance()

    def advance(self, answer=None, error=None):
        """Runs the flow until it waits for the client, Livy or the hub, or has decided."""
        server = self.conn.server
        result = None
        while True:
            try:
                ask = self.flow.send(answer) if error is None else self.flow.throw(error)
            except StopIteration as done:
                result = done.value
                break
            # A defect in the gate must still be answered and audited.
            except Exception as exc:  # pylint: disable=broad-except
                LOG.exception('request failed in the gate')
                out = json.dumps({'msg': 'the gate failed on this request'}).encode('utf-8')
                result = (500, [('Content-Type', 'application/json')], out, None, 'gate error: %s' % type(exc).__name__)
                break
            answer = error = None
            # Whatever these raise is handed to the flow, which decides.
            try:
                if ask[0] == ASK_LIVY:
                    server.livy.request(ask[1], ask[2], ask[3], ask[4], self.answered)
                    return
                if ask[0] == ASK_IDENTITY:
                    server.identify(ask[1], self.answered)
                    return
                length = body_length(self.headers, server.config['max_body_bytes'])
            except Exception as exc:  # pylint: disable=broad-except
                error = exc
                continue
            if len(self.conn.buffer) >= length:
                answer = self.conn.take(length)
                self.body_read = True
                continue
            self.want_body = length
            self.conn.wait_for_body(self)
            return
        self.conn.answer(self, *result)

    def answered(self, result, error):
        self.advance(result, error)

    def body_arrived(self):
        data = self.conn.take(self.want_body)
        self.want_body = None
        self.body_read = True
        self.advance(data)

    def body_unread(self):
        """Whether the request's body, never read, is still on the wire (the connection cannot go on)."""
        if self.body_read:
            return False
        return 'transfer-encoding' in self.headers or self.headers.get('content-length', '0') not in ('', '0')


class ClientConnection(asyncio.Protocol):
    """A client's connection: requests read one at a time, each handed to an Exchange."""

    def __init__(self, server):
        self.server = server
        self.transport = None
        self.client = '-'
        self.buffer = bytearray()
        self.exchange = None
        self.closed = False
        self.reading_paused = False
        self.writing_paused = False
        self.last_seen = server.loop.time()

    # The idle timeout applies while the gate waits for this client, never while it waits for Livy.
    def waits_for_client(self):
        return self.exchange is None or self.exchange.want_body is not None or self.writing_paused

    def connection_made(self, transport):
        self.transport = transport
        peer = transport.get_extra_info('peername')
        self.client = peer[0] if peer else '-'
        self.server.connections.add(self)

    def connection_lost(self, exc):
        self.closed = True
        self.server.connections.discard(self)
        exchange = self.exchange
        if exchange is not None and exchange.want_body is not None:
            # Its body will never come: the request is decided (refused) and audited all the same.
            exchange.want_body = None
            exchange.advance(None, Refusal(400, 'the request body did not arrive', 'client left before its body'))

    def pause_writing(self):
        self.writing_paused = True
        self.last_seen = self.server.loop.time()

    def resume_writing(self):
        self.writing_paused = False
        self.last_seen = self.server.loop.time()
        if self.exchange is None:
            self._next()

    def data_received(self, data):
        self.buffer += data
        self.last_seen = self.server.loop.time()
        exchange = self.exchange
        if exchange is None:
            self._next()
        elif exchange.want_body is not None:
            if len(self.buffer) >= exchange.want_body:
                exchange.body_arrived()
        elif len(self.buffer) > MAX_HEAD_BYTES and not self.reading_paused:
            # A body the gate has not asked for yet (or the next requests) waits in the kernel.
            self.transport.pause_reading()
            self.reading_paused = True

    def take(self, length):
        data = bytes(self.buffer[:length])
        del self.buffer[:length]
        return data

    def wait_for_body(self, exchange):
        self.last_seen = self.server.loop.time()
        if self.reading_paused:
            self.reading_paused = False
            self.transport.resume_reading()
        if exchange.headers.get('expect', '').lower() == '100-continue' and exchange.version == 'HTTP/1.1':
            self.transport.write(b'HTTP/1.1 100 Continue\r\n\r\n')

    def _next(self):
        """Starts the next request in the buffer, if a whole head is there."""
        if self.closed or self.exchange is not None or self.writing_paused:
            return
        buf = self.buffer
        while buf[:2] == b'\r\n':
            del buf[:2]
        end = buf.find(b'\r\n\r\n', 0, MAX_HEAD_BYTES + 4)
        if end < 0:
            if len(buf) > MAX_HEAD_BYTES:
                self._refuse_head(BadRequest(431, 'request head larger than %d bytes' % MAX_HEAD_BYTES))
            elif self.reading_paused:
                self.reading_paused = False
                self.transport.resume_reading()
            return
        head = bytes(buf[:end])
        del buf[:end + 4]
        began = self.server.loop.time()
        try:
            method, target, version, headers = parse_head(head)
        except BadRequest as bad:
            self._refuse_head(bad)
            return
        self.exchange = Exchange(self, method, target, version, headers, began)
        self.server.admit(self.exchange)

    def deliver(self, chunks, close):
        if self.transport.is_closing():
            return
        self.transport.writelines(chunks)
        if close:
            self.transport.close()

    def _refuse_head(self, bad):
        self.exchange = Exchange(self, '-', '-', 'HTTP/1.0', {}, self.server.loop.time())
        out = json.dumps({'msg': bad.message}).encode('utf-8')
        self.answer(self.exchange, bad.status, [('Content-Type', 'application/json')], out, None,
                    'bad request: %s' % bad.message, admitted=False)

    def answer(self, exchange, status, headers, body, user, reason, admitted=True):
        server = self.server
        close = not exchange.keep_alive or exchange.body_unread() or exchange.method == '-'
        head = ['HTTP/1.1 %d %s\r\nServer: livy-gate\r\nDate: %s\r\n' % (status, REASONS.get(status, ''), server.date())]
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                head.append('%s: %s\r\n' % (name, value))
        head.append('Content-Length: %d\r\n' % len(body))
        if close:
            head.append('Connection: close\r\n')
        head.append('\r\n')
        data = ''.join(head).encode('latin-1')
        if exchange.method == 'HEAD':
            chunks = (data,)
        elif len(body) < 65536:
            chunks = (data + body,)
        else:
            chunks = (data, body)
        # The audit line: who, what, the outcome. The path only: the query is the client's.
        path = urlsplit(exchange.target).path[:200] if exchange.target != '-' else '-'
        server.audit.line(user, exchange.method, path, status, (server.loop.time() - exchange.began) * 1000,
                          self.client, reason)
        server.send(self, chunks, close)
        self.exchange = None
        self.last_seen = server.loop.time()
        if admitted:
            server.release()
        if close:
            self.closed = True
        elif self.buffer or self.reading_paused:
            # The next request waits for the next turn of the loop: requests sent ahead one after the
            # other are served in turn with everyone else's, not by a recursion.
            server.loop.call_soon(self._next)


class GateServer:
    """One worker's state: the Gate, the Livy pool, the hub threads, the open connections."""

    def __init__(self, loop, config, gate, livy, audit):
        self.loop = loop
        self.config = config
        self.gate = gate
        self.livy = livy
        self.audit = audit
        self.connections = set()
        self.outbox = []
        self.active = 0
        self.queued = collections.deque()
        self.hub_threads = concurrent.futures.ThreadPoolExecutor(HUB_THREADS, thread_name_prefix='hub')
        self.checking = {}   # authorization header -> callbacks waiting for the hub's answer
        self.date_second = None
        self.date_text = ''
        self.sweeper = loop.call_later(SWEEP_SECONDS, self.sweep)

    def protocol(self):
        return ClientConnection(self)

    def send(self, conn, chunks, close):
        """Queues an answer; the answers of a loop turn leave after that turn's audit lines are written,
        so that no client sees an answer the audit trail does not hold yet."""
        if not self.outbox:
            self.loop.call_soon(self.deliver)
        self.outbox.append((conn, chunks, close))

    def deliver(self):
        self.audit.flush()
        outbox, self.outbox = self.outbox, []
        for conn, chunks, close in outbox:
            conn.deliver(chunks, close)

    def date(self):
        second = int(time.time())
        if second != self.date_second:
            self.date_second = second
            self.date_text = email.utils.formatdate(second, usegmt=True)
        return self.date_text

    def admit(self, exchange):
        if self.active < self.config['max_clients']:
            self.active += 1
            exchange.start()
        else:
            self.queued.append(exchange)

    def release(self):
        self.active -= 1
        while self.queued and self.active < self.config['max_clients']:
            # Started even when its client has left, as a thread would have: it is decided and audited.
            self.active += 1
            self.queued.popleft().start()

    def identify(self, header, done):
        """Asks the hub in a thread (the check blocks); one check for all requests with the same credentials."""
        waiting = self.checking.get(header)
        if waiting is not None:
            waiting.append(done)
            return
        self.checking[header] = [done]
        future = self.loop.run_in_executor(self.hub_threads, self.gate.authenticator.identify, header)
        future.add_done_callback(lambda finished: self._identified(header, finished))

    def _identified(self, header, future):
        if future.cancelled():   # the worker is stopping
            error, result = Refusal(503, 'the gate is stopping; try again', 'stopping'), None
        else:
            error = future.exception()
            result = None if error is not None else future.result()
        for done in self.checking.pop(header):
            done(result, error)

    def sweep(self):
        now = self.loop.time()
        while self.queued and now - self.queued[0].began > BUSY_WAIT_SECONDS:
            exchange = self.queued.popleft()
            exchange.conn.answer(exchange, 503, [('Content-Type', 'application/json')], b'{"msg": "the gate is busy"}',
                                 None, 'busy', admitted=False)
        timeout = self.config['client_timeout']
        for conn in [conn for conn in self.connections if conn.waits_for_client() and now - conn.last_seen > timeout]:
            conn.closed = True
            conn.transport.abort()
        self.sweeper = self.loop.call_later(SWEEP_SECONDS, self.sweep)

    def close(self):
        self.sweeper.cancel()
        self.livy.close()
        self.hub_threads.shutdown(wait=False, cancel_futures=True)


def build(config):
    """The Gate for a loaded config: its caches, its hub client (not yet serving)."""
    cache = AuthCache(config['cache_size'], config['cache_seconds'])
    hub = HubClient(config['hub_url'], config['hub_timeout'], config['hub_validate_certs'], config['hub_ca'])
    return Gate(config, Authenticator(hub.whoami, cache, config['admins_see_all']))


def listening_sockets(config):
    """One listening socket a worker process. With several workers they share the port through
    SO_REUSEPORT, so the kernel spreads new connections over the workers evenly (a shared socket
    would hand most of them to whichever worker wakes first)."""
    family = socket.AF_INET6 if ':' in config['listen_host'] else socket.AF_INET
    sockets = []
    try:
        for dummy in range(config['workers']):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if config['workers'] > 1:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config['listen_host'], config['listen_port']))
            sock.listen(128)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def tls_context(config):
    if not config['tls_cert']:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(config['tls_cert'], config['tls_key'])
    return context


async def serve(config, sock, context, children=()):
    """Serves on `sock` until SIGTERM or SIGINT (or, in the first worker, until another worker dies)."""
    loop = asyncio.get_running_loop()
    livy = LivyPool(loop, config['livy_url'], config['livy_timeout'])
    server = GateServer(loop, config, build(config), livy, AuditLog(loop, sys.stderr))
    listener = await loop.create_server(server.protocol, sock=sock, ssl=context, backlog=128,
                                        ssl_handshake_timeout=config['client_timeout'] if context else None)
    stopped = loop.create_future()

    def stop(code):
        if not stopped.done():
            stopped.set_result(code)

    def child_exited():
        for pid in children:
            try:
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if done:
                LOG.error('worker process %d ended (status %d): the gate stops, to be restarted whole', pid, status)
                stop(1)

    loop.add_signal_handler(signal.SIGTERM, stop, 0)
    loop.add_signal_handler(signal.SIGINT, stop, 0)
    if children:
        loop.add_signal_handler(signal.SIGCHLD, child_exited)
    try:
        return await stopped
    finally:
        listener.close()
        server.audit.flush()
        server.close()


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
        context = tls_context(config)
        sockets = listening_sockets(config)
    except (OSError, ssl.SSLError) as exc:
        LOG.error('cannot listen on %s:%d: %s', config['listen_host'], config['listen_port'], exc)
        return 1
    LOG.info('listening on %s:%d (%s, %d worker process%s), Livy at %s, hub at %s', config['listen_host'],
             config['listen_port'], 'TLS' if config['tls_cert'] else 'plain HTTP', config['workers'],
             '' if config['workers'] == 1 else 'es', config['livy_url'], config['hub_url'])
    # Python runs one thread at a time: further processes, each with its own socket on the port and
    # its own event loop, use more cores. Each keeps its own caches; the hub sees at most one check
    # per token and worker.
    children = []
    for index in range(1, len(sockets)):
        pid = os.fork()
        if pid == 0:
            for other, sock in enumerate(sockets):
                if other != index:
                    sock.close()
            code = 1
            try:
                code = asyncio.run(serve(config, sockets[index], context))
            finally:
                os._exit(code)
        children.append(pid)
    for sock in sockets[1:]:
        sock.close()
    try:
        code = asyncio.run(serve(config, sockets[0], context, children))
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
                os.waitpid(pid, 0)
            except OSError:
                pass
    return code


if __name__ == '__main__':
    sys.exit(main())
