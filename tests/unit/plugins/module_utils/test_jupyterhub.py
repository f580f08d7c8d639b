"""Hub API client logic without a hub: URLs, pagination, retries, error messages, the change plan."""

from __future__ import annotations

import json

import pytest
import requests

from ansible_collections.datalake.notebooks.plugins.module_utils import _jupyterhub as jh

TOKEN = '0123456789abcdef0123456789abcdef'


@pytest.mark.parametrize('url, base', [
    ('https://master:9443', 'https://master:9443/hub/api'),
    ('https://master:9443/', 'https://master:9443/hub/api'),
    ('http://127.0.0.1:8000/jhub/', 'http://127.0.0.1:8000/jhub/hub/api'),
])
def test_api_base(url, base):
    assert jh.api_base(url) == base


@pytest.mark.parametrize('url', ['', 'master:9443', 'ftp://master', 'https://master:9443/?x=1', 'https://'])
def test_api_base_rejects_what_is_not_a_base_url(url):
    with pytest.raises(jh.HubError, match='base URL'):
        jh.api_base(url)


@pytest.mark.parametrize('url, shown, error', [
    ('https://master:9443/?token=%s' % TOKEN, 'https://master:9443/', 'query or fragment'),
    ('https://master:9443/jhub?next=/x#%s' % TOKEN, 'https://master:9443/jhub', 'query or fragment'),
    ('https://ops:%s@master:9443/' % TOKEN, 'https://master:9443/', 'user info'),
    ('ftp://master/?token=%s' % TOKEN, 'ftp://master/', 'not an http(s) URL'),
    ('https://[::1/?token=%s' % TOKEN, 'https://[::1/', 'not an http(s) URL'),
])
def test_api_base_never_shows_what_follows_the_path(url, shown, error):
    with pytest.raises(jh.HubError, match='base URL') as raised:
        jh.api_base(url)
    assert error in str(raised.value) and shown in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_user_path_quotes_the_name_as_one_segment():
    assert jh.user_path('a b') == '/users/a%20b'
    assert jh.user_path('x/y') == '/users/x%2Fy'
    assert jh.user_path('émile') == '/users/%C3%A9mile'


def test_list_query():
    assert jh.list_query(400) == '/users?offset=400&limit=%d' % jh.PAGE_LIMIT


def page(items, offset, limit, total):
    following = None
    if offset + limit < total:
        # The hub's own next.url can name its internal address; only next.offset is used.
        following = {'offset': offset + limit, 'limit': limit,
                     'url': 'http://10.0.0.5:8081/hub/api/users?offset=%d&limit=%d' % (offset + limit, limit)}
    return {'items': items, '_pagination': {'offset': offset, 'limit': limit, 'total': total, 'next': following}}


ONE = [{'name': 'one'}]


@pytest.mark.parametrize('body, offset, expected', [
    (page(ONE, 0, 200, 450), 0, 200),
    (page(ONE, 200, 200, 450), 200, 400),
    (page(ONE, 400, 200, 450), 400, None),
    (page(ONE, 0, 200, 200), 0, None),
    ([{'name': 'legacy'}], 0, None),  # hub < 2.0: a plain list, no pages
    # A broken hub: an empty page, or a `next` at or past `total`, ends the listing all the same.
    ({'items': [], '_pagination': {'offset': 50, 'next': {'offset': 100}}}, 50, None),
    ({'items': ONE, '_pagination': {'offset': 2, 'total': 3, 'next': {'offset': 3}}}, 2, None),
    ({'items': ONE, '_pagination': {'offset': 2, 'total': 3, 'next': {'offset': 9}}}, 2, None),
    ({'items': ONE, '_pagination': {'offset': 1, 'total': 3, 'next': {'offset': 2}}}, 1, 2),
    ({'items': ONE, '_pagination': {'offset': 1, 'total': None, 'next': {'offset': 2}}}, 1, 2),
    ({'items': ONE, '_pagination': {'offset': 1, 'total': True, 'next': {'offset': 2}}}, 1, 2),
])
def test_next_offset(body, offset, expected):
    assert jh.next_offset(body, offset) == expected


@pytest.mark.parametrize('body, offset, error', [
    ({'items': []}, 0, '_pagination'),
    ({'items': ONE, '_pagination': {'next': {'url': 'x'}}}, 0, 'offset'),
    ({'items': ONE, '_pagination': {'next': {'offset': 200}}}, 200, 'does not move'),
    ({'items': ONE, '_pagination': {'next': {'offset': 100}}}, 200, 'does not move'),
])
def test_next_offset_refuses_a_loop_or_a_broken_answer(body, offset, error):
    with pytest.raises(ValueError, match=error):
        jh.next_offset(body, offset)


def test_page_items():
    assert jh.page_items(page([{'name': 'a'}], 0, 200, 1)) == [{'name': 'a'}]
    assert jh.page_items([{'name': 'a'}]) == [{'name': 'a'}]
    with pytest.raises(ValueError):
        jh.page_items({'_pagination': {}})
    with pytest.raises(ValueError):
        jh.page_items({'items': [{'nom': 'a'}]})


@pytest.mark.parametrize('status, retry', [
    (429, True), (500, True), (502, True), (503, True), (504, True),
    (200, False), (400, False), (401, False), (403, False), (404, False), (409, False), (501, False),
])
def test_retryable_status(status, retry):
    assert jh.is_retryable_status(status) is retry


def test_backoff_grows_and_is_capped():
    top = [jh.backoff_delay(attempt, rand=lambda: 1.0) for attempt in range(1, 10)]
    assert top[:4] == [0.5, 1.0, 2.0, 4.0]
    assert max(top) == jh.BACKOFF_CAP
    low = jh.backoff_delay(3, rand=lambda: 0.0)
    assert low == 1.0  # jitter keeps at least half the delay


@pytest.mark.parametrize('retry_after, delay', [('3', 3.0), ('0', 0.0), ('999', jh.BACKOFF_CAP),
                                                ('Wed, 21 Oct 2015 07:28:00 GMT', 0.5), (None, 0.5)])
def test_backoff_honours_retry_after_seconds(retry_after, delay):
    assert jh.backoff_delay(1, retry_after, rand=lambda: 1.0) == delay


@pytest.mark.parametrize('exc, retry', [
    (requests.exceptions.ConnectionError('Connection reset by peer'), True),
    (requests.exceptions.ConnectTimeout('timed out'), True),
    (requests.exceptions.ReadTimeout('timed out'), True),
    (requests.exceptions.SSLError('CERTIFICATE_VERIFY_FAILED'), False),
    (requests.exceptions.InvalidURL('bad'), False),
    (OSError('Could not find a suitable TLS CA certificate bundle'), False),
])
def test_retryable_exception(exc, retry):
    assert jh.is_retryable_exception(exc) is retry


HUB_403_SCOPE = '{"status": 403, "message": "Action is not authorized with current scopes; requires any of [admin:users]"}'
HUB_403_TOKEN = '{"status": 403, "message": "Missing or invalid credentials."}'


@pytest.mark.parametrize('status, body, scope, wanted', [
    (403, HUB_403_SCOPE, 'admin:users', ['not allowed to create users', 'missing the scope admin:users']),
    (403, HUB_403_TOKEN, 'list:users', ['rejected the API token', 'list:users', 'Missing or invalid credentials']),
    (401, '', 'list:users', ['rejected the API token', 'list:users']),
    (403, '{"message": "Only admins can grant admin permissions"}', 'admin:users', ['hub admin']),
    (404, '<html>Jupyter has lots of moons</html>', 'list:users', ['No JupyterHub API at', 'without /hub/api']),
    (302, '', 'list:users', ['No JupyterHub API at']),
    (400, '{"status": 400, "message": "Invalid username: x/y"}', 'admin:users', ['HTTP 400', 'Invalid username: x/y']),
    (500, '<html>' + 'x' * 1000 + '</html>', 'list:users', ['HTTP 500', '...']),
])
def test_http_error_messages(status, body, scope, wanted):
    msg = jh.http_error_message('POST', 'https://h/hub/api/users', status, body, scope, 'create users')
    for part in wanted:
        assert part in msg
    assert len(msg) < 600


def test_connection_error_messages_name_the_url_and_the_fix():
    refused = requests.exceptions.ConnectionError(ConnectionRefusedError(111, 'Connection refused'))
    msg = jh.connection_error_message('https://master:9443', refused, 'list users')
    assert msg.startswith('Cannot reach JupyterHub at https://master:9443 while trying to list users')
    assert 'Connection refused' in msg

    verify = requests.exceptions.SSLError(
        OSError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate'))
    msg = jh.connection_error_message('https://master:9443', verify, 'list users')
    assert 'TLS verification failed' in msg and 'set ca_path' in msg

    plain = requests.exceptions.SSLError(OSError('[SSL: WRONG_VERSION_NUMBER] wrong version number'))
    msg = jh.connection_error_message('https://master:9443', plain, 'list users')
    assert 'http or https' in msg and 'ca_path' not in msg

    slow = requests.exceptions.ReadTimeout('read timeout=5')
    assert 'timeout' in jh.connection_error_message('https://master:9443', slow, 'list users')


def test_scrub_removes_the_token():
    assert jh.scrub('Authorization: token %s!' % TOKEN, [TOKEN, None]) == 'Authorization: token ********!'


def test_client_messages_never_carry_the_token():
    client = jh.HubClient('http://127.0.0.1:9', TOKEN)
    prepared = client.session.prepare_request(requests.Request('GET', 'http://127.0.0.1:9/hub/api/'))
    assert prepared.headers['Authorization'] == 'token ' + TOKEN
    assert 'Authorization' not in client.session.headers
    assert TOKEN not in client._scrub('echo %s' % TOKEN)
    client.close()


@pytest.mark.parametrize('raw', [TOKEN + '\n', '  %s\r\n' % TOKEN, '\t%s ' % TOKEN, TOKEN])
def test_clean_token_strips_surrounding_whitespace(raw):
    assert jh.clean_token(raw) == TOKEN


@pytest.mark.parametrize('raw, error', [
    (None, 'is empty'),
    (' \n', 'is empty'),
    (TOKEN[:8] + ' ' + TOKEN[8:], 'whitespace or a control character at position 9 of 33'),
    (TOKEN[:8] + '\n' + TOKEN[8:], 'whitespace or a control character at position 9'),
    (TOKEN[:8] + '\x7f' + TOKEN[8:], 'whitespace or a control character at position 9'),
    (TOKEN[:8] + '\u00e9' + TOKEN[8:], 'not printable ASCII at position 9'),
])
def test_clean_token_refuses_inner_whitespace_without_showing_it(raw, error):
    with pytest.raises(jh.HubError, match=error) as raised:
        jh.clean_token(raw)
    assert TOKEN[:8] not in str(raised.value) and TOKEN[8:] not in str(raised.value)


def test_client_rejects_a_missing_ca_file(tmp_path):
    with pytest.raises(jh.HubError, match='ca_path'):
        jh.HubClient('https://master:9443', TOKEN, ca_path=str(tmp_path / 'nope.pem'))


@pytest.mark.parametrize('wanted, state, exclusive, expected', [
    (None, 'present', False, ([], [], [])),
    (['a', 'new'], 'present', False, (['new'], [], [])),
    (['a', 'new'], 'absent', False, ([], ['a'], [])),
    (['a'], 'present', True, ([], ['b'], ['root'])),
    ([], 'present', True, ([], ['a', 'b'], ['root'])),
    (['a', 'b', 'root'], 'present', True, ([], [], [])),
])
def test_plan(wanted, state, exclusive, expected):
    assert jh.plan(['a', 'b', 'root'], wanted, state, exclusive, admins=['root']) == expected


# The client's request loop, with the session's transport replaced by a script of answers.

def answer(status, body=None, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = b'' if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response.headers.update(headers or {})
    return response


class Script:
    """Stands in for Session.request: returns or raises the scripted outcomes in order."""

    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = []

    def __call__(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def scripted_client(*outcomes):
    sleeps = []
    client = jh.HubClient('https://master:9443', TOKEN, sleep=sleeps.append)
    client.session.request = Script(*outcomes)
    return client, client.session.request, sleeps


def test_transient_failures_are_retried_with_backoff():
    client, script, sleeps = scripted_client(
        requests.exceptions.ConnectionError('Connection reset by peer'),
        answer(503, {'message': 'Service Unavailable'}),
        answer(429, {'message': 'slow down'}, {'Retry-After': '2'}),
        answer(200, {'version': '6.1.1'}),
    )
    assert client.version() == '6.1.1'
    assert len(script.calls) == 4 and client.retries == 3
    assert len(sleeps) == 3 and sleeps[2] == 2.0


def test_retries_are_bounded():
    client, script, sleeps = scripted_client(*[answer(502, {'message': 'Bad Gateway'})] * jh.MAX_ATTEMPTS)
    with pytest.raises(jh.HubError, match='HTTP 502'):
        client.version()
    assert len(script.calls) == jh.MAX_ATTEMPTS and len(sleeps) == jh.MAX_ATTEMPTS - 1


@pytest.mark.parametrize('outcome, error', [
    (answer(403, {'message': 'Missing or invalid credentials.'}), 'rejected the API token'),
    (answer(404, b'<html>404</html>'), 'No JupyterHub API'),
    (requests.exceptions.SSLError('[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed'), 'ca_path'),
])
def test_permanent_failures_are_not_retried(outcome, error):
    client, script, sleeps = scripted_client(outcome)
    with pytest.raises(jh.HubError, match=error):
        client.version()
    assert len(script.calls) == 1 and sleeps == []


def test_malformed_json_is_reported_without_the_token():
    client, script, sleeps = scripted_client(answer(200, b'<html>login %s</html>' % TOKEN.encode(),
                                                    {'Content-Type': 'text/html'}))
    with pytest.raises(jh.HubError) as raised:
        client.version()
    assert 'not JSON' in str(raised.value) and 'text/html' in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_list_users_follows_next_offset_with_the_pagination_media_type():
    client, script, sleeps = scripted_client(
        answer(200, page([{'name': 'u%d' % n} for n in range(200)], 0, 200, 450)),
        answer(200, page([{'name': 'u%d' % n} for n in range(200, 400)], 200, 200, 450)),
        answer(200, page([{'name': 'u%d' % n} for n in range(400, 450)], 400, 200, 450)),
    )
    users = client.list_users()
    assert sorted(users) == sorted('u%d' % n for n in range(450))
    urls = [url for dummy, url, dummy in script.calls]
    assert urls == ['https://master:9443/hub/api/users?offset=%d&limit=%d' % (offset, jh.PAGE_LIMIT)
                    for offset in (0, 200, 400)]
    assert all(kwargs['headers']['Accept'] == jh.PAGINATION_MEDIA_TYPE for dummy, dummy, kwargs in script.calls)
    assert all(kwargs['allow_redirects'] is False for dummy, dummy, kwargs in script.calls)
    assert all(kwargs['verify'] is True for dummy, dummy, kwargs in script.calls)


@pytest.mark.parametrize('validate_certs, ca_path, verify', [(True, None, True), (False, None, False),
                                                             (True, 'ca', 'ca'), (False, 'ca', False)])
def test_certificate_verification_settings(tmp_path, validate_certs, ca_path, verify):
    if ca_path:
        ca_path = verify = str(tmp_path / 'ca.pem') if verify else False
        (tmp_path / 'ca.pem').write_text('PEM')
    client = jh.HubClient('https://master:9443', TOKEN, validate_certs=validate_certs, ca_path=ca_path)
    assert client._verify == verify


def test_create_is_one_request_and_409_after_a_retry_means_done():
    client, script, sleeps = scripted_client(answer(201, [{'name': 'a'}, {'name': 'b'}]))
    assert client.create_users(['a', 'b']) == ['a', 'b']
    assert len(script.calls) == 1 and script.calls[0][2]['json'] == {'usernames': ['a', 'b']}

    client, script, sleeps = scripted_client(
        requests.exceptions.ConnectionError('Connection reset by peer'),
        answer(409, {'message': 'All 2 users already exist'}),
    )
    assert client.create_users(['a', 'b'], admin=True) == []
    assert script.calls[1][2]['json'] == {'usernames': ['a', 'b'], 'admin': True}


def test_delete_of_a_user_already_gone_is_not_an_error():
    client, script, sleeps = scripted_client(answer(404, {'message': None}), answer(204))
    assert client.delete_user('gone') is False
    assert client.delete_user('a b') is True
    assert script.calls[1][1] == 'https://master:9443/hub/api/users/a%20b'


@pytest.mark.parametrize('exc', [
    requests.exceptions.InvalidHeader("Invalid header value b'token %s\\n'" % TOKEN),
    requests.exceptions.ConnectionError(OSError('reset while sending token %s' % TOKEN)),
    UnicodeEncodeError('latin-1', 'token %s' % TOKEN, 6, 7, 'ordinal not in range(256)'),
    KeyError('Authorization: token %s' % TOKEN),
])
def test_every_exception_of_the_http_stack_leaves_scrubbed_and_unchained(exc):
    client, script, sleeps = scripted_client(exc)
    with pytest.raises(jh.HubError) as raised:
        client.version()
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__context__ is None
    assert 'https://master:9443' in str(raised.value)
