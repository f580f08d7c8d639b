"""The Livy gate's decisions, without sockets: credentials, the auth cache, routes, create bodies,
ownership and listing filters, and the whole request path over an in-memory Livy and hub."""

from __future__ import annotations

import base64
import importlib.util
import json
import os

import pytest

GATE_PATH = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'roles', 'livy_impersonation', 'files',
                         'livy_gate.py')
_spec = importlib.util.spec_from_file_location('livy_gate', GATE_PATH)
gate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gate)

SHIRLEY = gate.Identity('shirley')
DIEGO = gate.Identity('diego')
ADMIN = gate.Identity('root-of-hub', sees_all=True)


def basic(user, token):
    return 'Basic ' + base64.b64encode(('%s:%s' % (user, token)).encode()).decode()


# --- credentials -------------------------------------------------------------------------------

@pytest.mark.parametrize('header, expected', [
    (basic('shirley', 'abc'), ('shirley', 'abc')),
    ('basic ' + base64.b64encode(b'shirley:a:b').decode(), ('shirley', 'a:b')),
    ('token abc', (None, 'abc')),
    ('Token  abc ', (None, 'abc')),
])
def test_credentials_accepted(header, expected):
    assert gate.parse_credentials(header) == expected


@pytest.mark.parametrize('header, reason', [
    (None, 'no credentials'),
    ('', 'no credentials'),
    ('Basic !!!', 'malformed basic credentials'),
    ('Basic ' + base64.b64encode(b'shirley').decode(), 'malformed basic credentials'),
    ('Basic ' + base64.b64encode(b'shirley:').decode(), 'malformed basic credentials'),
    ('Basic ' + base64.b64encode(b':tok').decode(), 'malformed basic credentials'),
    ('Basic ' + base64.b64encode(b'\xff:tok').decode(), 'malformed basic credentials'),
    ('Bearer abc', 'unsupported scheme'),
    ('token', 'malformed token credentials'),
    ('token a b', 'malformed token credentials'),
])
def test_credentials_refused(header, reason):
    with pytest.raises(gate.Refusal) as caught:
        gate.parse_credentials(header)
    assert caught.value.status == 401
    assert caught.value.reason == reason


# --- auth cache --------------------------------------------------------------------------------

class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_cache_expires_entries_by_age():
    clock = Clock()
    cache = gate.AuthCache(10, 60, clock)
    cache.put('t', {'name': 'shirley'})
    clock.now += 59.9
    assert cache.get('t') == {'name': 'shirley'}
    clock.now += 0.1
    assert cache.get('t') is None
    assert len(cache) == 0


def test_cache_bounded_size_drops_least_recently_used():
    cache = gate.AuthCache(2, 60, Clock())
    cache.put('a', {'name': 'a'})
    cache.put('b', {'name': 'b'})
    assert cache.get('a')          # a is now the most recent
    cache.put('c', {'name': 'c'})
    assert cache.get('b') is None
    assert cache.get('a') and cache.get('c')
    assert len(cache) == 2


def test_cache_holds_no_token():
    cache = gate.AuthCache(2, 60, Clock())
    cache.put('secret-token-value', {'name': 'a'})
    assert all(b'secret-token-value' not in key for key in cache._entries)


class Hub:
    """whoami over a dict of tokens; counts calls; `down` raises HubUnavailable."""

    def __init__(self, tokens):
        self.tokens = dict(tokens)
        self.calls = 0
        self.down = False

    def __call__(self, token):
        self.calls += 1
        if self.down:
            raise gate.HubUnavailable('ConnectionRefusedError')
        return self.tokens.get(token)


TOKENS = {'ts': {'kind': 'user', 'name': 'shirley', 'admin': False},
          'td': {'kind': 'user', 'name': 'diego', 'admin': False},
          'ta': {'kind': 'user', 'name': 'boss', 'admin': True},
          'svc': {'kind': 'service', 'name': 'ops'}}


@pytest.mark.parametrize('header, admins_see_all, name, sees_all', [
    (basic('shirley', 'ts'), False, 'shirley', False),
    ('token ts', False, 'shirley', False),
    (basic('boss', 'ta'), False, 'boss', False),
    (basic('boss', 'ta'), True, 'boss', True),
    (basic('diego', 'td'), True, 'diego', False),
])
def test_identify(header, admins_see_all, name, sees_all):
    identity = gate.Authenticator(Hub(TOKENS), gate.AuthCache(10, 60, Clock()), admins_see_all).identify(header)
    assert (identity.name, identity.sees_all) == (name, sees_all)


@pytest.mark.parametrize('header, status, reason', [
    (None, 401, 'no credentials'),
    (basic('shirley', 'wrong'), 401, 'token refused by the hub'),
    (basic('shirley', 'td'), 401, 'token of diego presented as shirley'),
    (basic('ops', 'svc'), 401, 'token of a non-user'),
])
def test_identify_refused(header, status, reason):
    authenticator = gate.Authenticator(Hub(TOKENS), gate.AuthCache(10, 60, Clock()))
    with pytest.raises(gate.Refusal) as caught:
        authenticator.identify(header)
    assert (caught.value.status, caught.value.reason) == (status, reason)


def test_identify_caches_accepted_tokens_only():
    hub = Hub(TOKENS)
    clock = Clock()
    authenticator = gate.Authenticator(hub, gate.AuthCache(10, 60, clock))
    for dummy in range(3):
        authenticator.identify(basic('shirley', 'ts'))
    assert hub.calls == 1
    for dummy in range(2):
        with pytest.raises(gate.Refusal):
            authenticator.identify(basic('shirley', 'bad'))
    assert hub.calls == 3
    # A cached token of shirley is still refused under another name.
    with pytest.raises(gate.Refusal):
        authenticator.identify(basic('diego', 'ts'))
    # Revoked at the hub: refused once the cached answer is older than the cache's age.
    del hub.tokens['ts']
    clock.now += 61
    with pytest.raises(gate.Refusal) as caught:
        authenticator.identify(basic('shirley', 'ts'))
    assert caught.value.status == 401


def test_hub_down_is_503_and_cached_tokens_still_work():
    hub = Hub(TOKENS)
    authenticator = gate.Authenticator(hub, gate.AuthCache(10, 60, Clock()))
    authenticator.identify(basic('shirley', 'ts'))
    hub.down = True
    assert authenticator.identify(basic('shirley', 'ts')).name == 'shirley'
    with pytest.raises(gate.Refusal) as caught:
        authenticator.identify(basic('diego', 'td'))
    assert caught.value.status == 503


# --- routes ------------------------------------------------------------------------------------

@pytest.mark.parametrize('method, path, query, expected', [
    ('GET', '/sessions', [], gate.Route('list', 'sessions')),
    ('GET', '/batches/', [('from', '0')], gate.Route('list', 'batches')),
    ('POST', '/sessions', [], gate.Route('create', 'sessions')),
    ('POST', '/batches', [], gate.Route('create', 'batches')),
    ('GET', '/sessions/12', [], gate.Route('object', 'sessions', 12, '')),
    ('DELETE', '/batches/3', [], gate.Route('object', 'batches', 3, '')),
    ('GET', '/batches/3/log', [('from', '0'), ('size', '10')], gate.Route('object', 'batches', 3, '/log')),
    ('GET', '/batches/3/state', [], gate.Route('object', 'batches', 3, '/state')),
    ('POST', '/sessions/1/statements', [], gate.Route('object', 'sessions', 1, '/statements')),
    ('GET', '/sessions/1/statements/4', [], gate.Route('object', 'sessions', 1, '/statements/4')),
    ('POST', '/sessions/1/statements/4/cancel', [], gate.Route('object', 'sessions', 1, '/statements/4/cancel')),
    ('POST', '/sessions/1/completion', [], gate.Route('object', 'sessions', 1, '/completion')),
    ('GET', '/version', [], gate.Route('version')),
])
def test_routes(method, path, query, expected):
    assert gate.route(method, path, query) == expected


@pytest.mark.parametrize('method, path, query, status', [
    ('POST', '/batches', [('doAs', 'diego')], 403),
    ('GET', '/sessions/1', [('DOAS', 'diego')], 403),
    ('GET', '/ui', [], 403),
    ('GET', '/ui/session/1', [], 403),
    ('GET', '/', [], 403),
    ('GET', '/static/app.js', [], 403),
    ('GET', '/sessions/abc', [], 403),
    ('GET', '/sessions/1/../2', [], 400),
    ('GET', '/sessions//1', [], 400),
    ('GET', '/sessions/%31', [], 400),
    ('GET', '/sessions/1;x', [], 400),
    ('PUT', '/sessions', [], 405),
    ('DELETE', '/sessions', [], 405),
    ('POST', '/version', [], 403),
])
def test_routes_refused(method, path, query, status):
    with pytest.raises(gate.Refusal) as caught:
        gate.route(method, path, query)
    assert caught.value.status == status


def test_allow_paths_open_the_ui_when_configured():
    assert gate.route('GET', '/ui', [], ['/ui']) == gate.Route('open')
    assert gate.route('GET', '/ui/batch/1', [], ['/ui']) == gate.Route('open')
    with pytest.raises(gate.Refusal):
        gate.route('GET', '/uix', [], ['/ui'])


# --- creating ----------------------------------------------------------------------------------

@pytest.mark.parametrize('body', [
    b'',
    b'{"kind": "pyspark"}',
    b'{"kind": "pyspark", "proxyUser": "shirley"}',
    b'{"file": "hdfs:///x.py", "proxyUser": null}',
])
def test_create_sets_proxy_user_to_the_caller(body):
    sent = json.loads(gate.create_body(body, SHIRLEY, 'sessions'))
    assert sent['proxyUser'] == 'shirley'
    original = json.loads(body or b'{}')
    assert {k: v for k, v in sent.items() if k != 'proxyUser'} == {k: v for k, v in original.items() if k != 'proxyUser'}


@pytest.mark.parametrize('body, status, words', [
    (b'{"proxyUser": "diego"}', 403, 'cannot start a session as diego'),
    (b'{"proxyUser": "Shirley"}', 403, 'as Shirley'),
    (b'{"proxyUser": ["shirley"]}', 403, 'proxyUser must be your own'),
    (b'{"proxyUser": "shirley", "proxyUser": "diego"}', 400, 'duplicate key proxyUser'),
    (b'[1]', 400, 'must be a JSON object'),
    (b'{', 400, 'not valid JSON'),
    (b'\xff', 400, 'not valid JSON'),
])
def test_create_refused(body, status, words):
    with pytest.raises(gate.Refusal) as caught:
        gate.create_body(body, SHIRLEY, 'sessions')
    assert caught.value.status == status
    assert words in caught.value.message


# --- ownership and listings --------------------------------------------------------------------

@pytest.mark.parametrize('identity, owner, allowed', [
    (SHIRLEY, 'shirley', True),
    (SHIRLEY, 'diego', False),
    (SHIRLEY, None, False),      # created without proxyUser (impersonation off, or before the gate)
    (ADMIN, 'diego', True),
    (ADMIN, None, True),
])
def test_may_use(identity, owner, allowed):
    assert gate.may_use(identity, owner) is allowed


LISTING = {'from': 0, 'total': 4, 'sessions': [
    {'id': 0, 'proxyUser': 'diego'}, {'id': 1, 'proxyUser': 'shirley'},
    {'id': 2, 'proxyUser': None}, {'id': 3, 'proxyUser': 'shirley'}]}


@pytest.mark.parametrize('identity, start, size, ids, total', [
    (SHIRLEY, 0, 100, [1, 3], 2),
    (SHIRLEY, 1, 100, [3], 2),
    (SHIRLEY, 0, 1, [1], 2),
    (DIEGO, 0, 100, [0], 1),
    (gate.Identity('nobody'), 0, 100, [], 0),
    (ADMIN, 0, 100, [0, 1, 2, 3], 4),
])
def test_filter_listing(identity, start, size, ids, total):
    out = gate.filter_listing(LISTING, identity, start, size)
    assert [item['id'] for item in out['sessions']] == ids
    assert out['total'] == total
    assert out['from'] == start


@pytest.mark.parametrize('query, expected', [
    ([], (0, 100)),
    ([('from', '5'), ('size', '7')], (5, 7)),
    ([('from', '-3')], (0, 100)),
])
def test_listing_query(query, expected):
    start, size, livy_query = gate.listing_query(query)
    assert (start, size) == expected
    assert livy_query == 'from=0&size=%d' % gate.LISTING_FETCH_SIZE


@pytest.mark.parametrize('query', [[('from', 'x')], [('size', '-1')]])
def test_listing_query_refused(query):
    with pytest.raises(gate.Refusal) as caught:
        gate.listing_query(query)
    assert caught.value.status == 400


# --- configuration -----------------------------------------------------------------------------

def test_config_defaults():
    config = gate.load_config({'hub_url': 'http://127.0.0.1:8000'})
    assert config['listen_port'] == 8998
    assert config['livy_url'] == 'http://127.0.0.1:8999'
    assert config['admins_see_all'] is False
    assert config['allow_paths'] == []


@pytest.mark.parametrize('data, words', [
    ([], 'must be a JSON object'),
    ({}, 'hub_url is required'),
    ({'hub_url': 'http://h', 'colour': 1}, 'unknown setting(s) colour'),
    ({'hub_url': 'ftp://h'}, 'hub_url must be an http'),
    ({'hub_url': 'http://h', 'livy_url': 'https://127.0.0.1:8999'}, 'livy_url must be http://'),
    ({'hub_url': 'http://h', 'cache_seconds': 3600}, 'cache_seconds must be at most 300'),
    ({'hub_url': 'http://h', 'cache_seconds': 0}, 'cache_seconds must be a positive number'),
    ({'hub_url': 'http://h', 'listen_port': 'x'}, 'listen_port must be a positive number'),
    ({'hub_url': 'http://h', 'listen_port': 70000}, 'listen_port must be at most 65535'),
    ({'hub_url': 'http://h', 'admins_see_all': 'yes'}, 'admins_see_all must be true or false'),
    ({'hub_url': 'http://h', 'tls_cert': '/c.pem'}, 'tls_cert and tls_key go together'),
    ({'hub_url': 'http://h', 'allow_paths': ['ui']}, 'allow_paths entries are path prefixes'),
    ({'hub_url': 'http://h', 'allow_paths': '/ui'}, 'allow_paths must be a list of strings'),
])
def test_config_refused(data, words):
    with pytest.raises(gate.ConfigError) as caught:
        gate.load_config(data)
    assert words in str(caught.value)


# --- the request path, over an in-memory Livy --------------------------------------------------

class FakeLivy:
    """Livy's answers for the objects in `objects` ({(collection, id): proxyUser}); records calls."""

    def __init__(self, objects):
        self.objects = objects
        self.calls = []

    def request(self, method, path, body=None, headers=None):
        self.calls.append((method, path, body, dict(headers or {})))
        parts = path.split('?')[0].strip('/').split('/')
        if len(parts) == 1:
            if method == 'POST':
                return 201, [('Content-Type', 'application/json')], body
            items = [{'id': i, 'proxyUser': owner} for (c, i), owner in sorted(self.objects.items()) if c == parts[0]]
            return 200, [], json.dumps({'from': 0, 'total': len(items), 'sessions': items}).encode()
        key = (parts[0], int(parts[1]))
        if key not in self.objects:
            return 404, [], b'{"msg": "not found"}'
        return 200, [], json.dumps({'id': key[1], 'proxyUser': self.objects[key], 'path': path}).encode()


def make_gate(objects=None, **settings):
    config = gate.load_config(dict({'hub_url': 'http://127.0.0.1:1'}, **settings))
    livy = FakeLivy(objects or {('sessions', 0): 'diego', ('sessions', 1): 'shirley', ('batches', 0): 'diego'})
    authenticator = gate.Authenticator(Hub(TOKENS), gate.AuthCache(10, 60, Clock()), config['admins_see_all'])
    return gate.Gate(config, authenticator, livy), livy


def call(the_gate, method, target, auth=None, body=b''):
    headers = {'content-type': 'application/json', 'x-requested-by': 'me'}
    if auth:
        headers['authorization'] = auth
    return the_gate.handle(method, target, headers, lambda: body)


@pytest.mark.parametrize('method, target, body, status, forwarded', [
    ('GET', '/sessions/0', b'', 403, []),
    ('DELETE', '/sessions/0', b'', 403, []),
    ('POST', '/sessions/0/statements', b'{"code": "1"}', 403, []),
    ('GET', '/sessions/0/statements/0', b'', 403, []),
    ('GET', '/batches/0/log?from=0&size=10', b'', 403, []),
    ('DELETE', '/batches/0', b'', 403, []),
    ('GET', '/sessions/1', b'', 200, []),
    ('GET', '/sessions/1/statements/2', b'', 200, [('GET', '/sessions/1/statements/2')]),
    ('POST', '/sessions/1/statements', b'{"code": "1"}', 200, [('POST', '/sessions/1/statements')]),
    ('DELETE', '/sessions/1', b'', 200, [('DELETE', '/sessions/1')]),
    ('GET', '/sessions/7', b'', 404, []),
    ('GET', '/version', b'', 200, [('GET', '/version')]),
])
def test_objects_only_for_their_owner(method, target, body, status, forwarded):
    the_gate, livy = make_gate()
    out_status, dummy, dummy2, user, dummy3 = call(the_gate, method, target, basic('shirley', 'ts'), body)
    assert out_status == status
    assert user == 'shirley'
    # Ownership is looked up with a GET of the object; anything after it is what was forwarded.
    calls = [(m, p) for m, p, dummy, dummy2 in livy.calls]
    if target.startswith(('/sessions/', '/batches/')):
        assert calls[0][0] == 'GET' and calls[0][1] == '/' + '/'.join(target.split('?')[0].strip('/').split('/')[:2])
        calls = calls[1:]
    assert calls == forwarded


def test_refused_requests_reach_livy_not_at_all():
    the_gate, livy = make_gate()
    for auth, target in ((None, '/sessions'), (basic('shirley', 'bad'), '/sessions'),
                         (basic('shirley', 'td'), '/batches'), (basic('shirley', 'ts'), '/batches?doAs=diego')):
        status, headers, dummy, dummy2, dummy3 = call(the_gate, 'POST', target, auth, b'{"file": "x"}')
        assert status in (401, 403)
    status, dummy, dummy2, dummy3, dummy4 = call(the_gate, 'POST', '/batches', basic('shirley', 'ts'), b'{"file": "x", "proxyUser": "diego"}')
    assert status == 403
    assert livy.calls == []


def test_401_asks_for_basic_credentials():
    the_gate, dummy = make_gate()
    status, headers, body, user, dummy = call(the_gate, 'GET', '/sessions')
    assert status == 401 and user is None
    assert ('WWW-Authenticate', 'Basic realm="livy"') in headers
    assert 'credentials required' in json.loads(body)['msg']


def test_create_forwards_the_checked_body_without_the_credentials():
    the_gate, livy = make_gate()
    status, dummy, dummy2, dummy3, dummy4 = call(the_gate, 'POST', '/batches', basic('shirley', 'ts'), b'{"file": "hdfs:///j.py"}')
    assert status == 201
    method, path, body, headers = livy.calls[0]
    assert (method, path) == ('POST', '/batches')
    assert json.loads(body) == {'file': 'hdfs:///j.py', 'proxyUser': 'shirley'}
    assert 'authorization' not in headers
    assert headers['x-requested-by'] == 'me'


@pytest.mark.parametrize('collection, user, token, admins_see_all, ids', [
    ('sessions', 'shirley', 'ts', False, [1]),
    ('sessions', 'diego', 'td', False, [0]),
    ('batches', 'shirley', 'ts', False, []),
    ('sessions', 'boss', 'ta', False, []),
    ('sessions', 'boss', 'ta', True, [0, 1]),
])
def test_listings_hold_the_callers_objects(collection, user, token, admins_see_all, ids):
    the_gate, dummy = make_gate(admins_see_all=admins_see_all)
    status, dummy, body, dummy2, dummy3 = call(the_gate, 'GET', '/' + collection, basic(user, token))
    assert status == 200
    assert [item['id'] for item in json.loads(body)['sessions']] == ids


def test_admin_sees_but_cannot_impersonate():
    the_gate, dummy = make_gate(admins_see_all=True)
    assert call(the_gate, 'GET', '/sessions/0', basic('boss', 'ta'))[0] == 200
    assert call(the_gate, 'POST', '/sessions', basic('boss', 'ta'), b'{"proxyUser": "diego"}')[0] == 403


def test_livy_down_is_502():
    the_gate, livy = make_gate()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, 'Connection refused')
    livy.request = refuse
    status, dummy, body, user, reason = call(the_gate, 'GET', '/sessions', basic('shirley', 'ts'))
    assert (status, user) == (502, 'shirley')
    assert reason == 'livy unavailable: ConnectionRefusedError'


def test_owner_cache_saves_the_lookup_for_a_second_only():
    clock = Clock()
    config = gate.load_config({'hub_url': 'http://127.0.0.1:1'})
    livy = FakeLivy({('sessions', 1): 'shirley'})
    owners = gate.TimedCache(10, config['owner_cache_seconds'], clock)
    the_gate = gate.Gate(config, gate.Authenticator(Hub(TOKENS), gate.AuthCache(10, 60, clock)), livy, owners)
    for dummy in range(3):
        assert call(the_gate, 'GET', '/sessions/1/statements/0', basic('shirley', 'ts'))[0] == 200
    assert [p for dummy, p, dummy2, dummy3 in livy.calls] == ['/sessions/1'] + ['/sessions/1/statements/0'] * 3
    # Still cached: diego is refused without asking Livy.
    assert call(the_gate, 'GET', '/sessions/1/statements/0', basic('diego', 'td'))[0] == 403
    assert len(livy.calls) == 4
    clock.now += 1.0
    call(the_gate, 'GET', '/sessions/1/statements/0', basic('shirley', 'ts'))
    assert [p for dummy, p, dummy2, dummy3 in livy.calls[4:]] == ['/sessions/1', '/sessions/1/statements/0']
    # Deleting forgets the owner.
    call(the_gate, 'DELETE', '/sessions/1', basic('shirley', 'ts'))
    assert ('sessions', 1) not in owners._entries


@pytest.mark.parametrize('data, words', [
    ({'hub_url': 'http://h', 'owner_cache_seconds': 5}, 'owner_cache_seconds must be at most 2'),
    ({'hub_url': 'http://h', 'workers': 2.5}, 'workers must be a whole number'),
    ({'hub_url': 'http://h', 'workers': 100}, 'workers must be a whole number'),
])
def test_config_refused_caches_and_workers(data, words):
    with pytest.raises(gate.ConfigError) as caught:
        gate.load_config(data)
    assert words in str(caught.value)
