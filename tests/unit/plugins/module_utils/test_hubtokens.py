"""When a user's gate token is kept or made anew, and how it is written into config.json."""

from __future__ import annotations

import datetime
import io
import json
import urllib.error

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _hubtokens

NOW = datetime.datetime(2026, 12, 1, 20, 0, tzinfo=datetime.timezone.utc)
DAY = 86400


def document(user='shirley', token='tok', auth='Basic_Access', expires='2026-12-31T20:00:00Z', token_id='a1'):
    doc = {'kernel_python_credentials': {'url': 'http://gate:8998', 'auth': auth, 'username': user, 'password': token}}
    if expires is not None or token_id is not None:
        doc[_hubtokens.KEY] = {'token_id': token_id, 'expires_at': expires}
    return doc


@pytest.mark.parametrize('existing, renew, expected', [
    (None, 7 * DAY, True),                                        # no file yet
    ({}, 7 * DAY, True),
    ({'kernel_python_credentials': {'auth': 'None'}}, 7 * DAY, True),   # a pre-gate file
    (document(), 7 * DAY, False),                                 # 30 days left
    (document(), 30 * DAY, True),                                 # within the margin
    (document(expires='2026-12-05T20:00:00Z'), 7 * DAY, True),
    (document(expires='2026-11-30T20:00:00Z'), 7 * DAY, True),    # already expired
    (document(expires='not a time'), 7 * DAY, True),
    (document(expires=None), 7 * DAY, True),
    (document(user='diego'), 7 * DAY, True),                      # someone else's credentials
    (document(token=''), 7 * DAY, True),
    (document(auth='None'), 7 * DAY, True),
    (document(expires='2026-12-31T20:00:00.123456+00:00'), 7 * DAY, False),
])
def test_needs_new_token(existing, renew, expected):
    assert _hubtokens.needs_new_token(existing, 'shirley', NOW, renew) is expected


def test_current_token():
    token, token_id, expires = _hubtokens.current_token(document(), 'shirley')
    assert (token, token_id) == ('tok', 'a1')
    assert expires == datetime.datetime(2026, 12, 31, 20, 0, tzinfo=datetime.timezone.utc)
    assert _hubtokens.current_token(['x'], 'shirley') == (None, None, None)


def test_with_credentials_sets_every_kernel_and_keeps_the_rest():
    config = {'kernel_python_credentials': {'url': 'http://gate:8998', 'auth': 'None', 'base64_password': 'eA=='},
              'kernel_scala_credentials': {'url': 'http://gate:8998'},
              'session_configs': {'proxyUser': 'shirley'}, 'other': 1}
    out = _hubtokens.with_credentials(config, 'shirley', 'secret', 'a9', '2026-12-31T20:00:00Z')
    for key in ('kernel_python_credentials', 'kernel_scala_credentials'):
        assert out[key] == {'url': 'http://gate:8998', 'auth': 'Basic_Access', 'username': 'shirley', 'password': 'secret'}
    assert 'kernel_r_credentials' not in out
    assert out[_hubtokens.KEY] == {'token_id': 'a9', 'expires_at': '2026-12-31T20:00:00Z'}
    assert out['other'] == 1 and out['session_configs'] == {'proxyUser': 'shirley'}
    # The input is not changed.
    assert config['kernel_python_credentials']['auth'] == 'None'
    assert not _hubtokens.needs_new_token(out, 'shirley', NOW, 7 * DAY)


def test_masked():
    text = json.dumps(document(token='s3cr3t-token'))
    assert 's3cr3t-token' not in _hubtokens.masked(text, ['s3cr3t-token', None])
    assert _hubtokens.MASK in _hubtokens.masked(text, ['s3cr3t-token'])


class Opener:
    """Records requests; answers with `answers` in turn (bytes, or an exception to raise)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.requests = []

    def __call__(self, method, url, data, headers, timeout):
        self.requests.append((method, url, json.loads(data) if data else None, headers))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def http_error(code, message):
    return urllib.error.HTTPError('http://hub/x', code, 'error', {}, io.BytesIO(json.dumps({'message': message}).encode()))


def test_create_asks_for_the_narrowest_token_with_an_expiry():
    opener = Opener(json.dumps({'token': 't0k', 'id': 'a7', 'expires_at': '2026-12-31T20:00:00Z'}).encode())
    hub = _hubtokens.HubTokens('http://hub:8000/', 'api', opener)
    assert hub.create('shi rley', 3600) == ('t0k', 'a7', '2026-12-31T20:00:00Z')
    method, url, body, headers = opener.requests[0]
    assert (method, url) == ('POST', 'http://hub:8000/hub/api/users/shi%20rley/tokens')
    assert body['scopes'] == [] and body['expires_in'] == 3600
    assert headers['Authorization'] == 'token api'


@pytest.mark.parametrize('answer, words', [
    (http_error(403, 'no permissions to generate tokens'), 'POST /users/shirley/tokens answered 403: no permissions'),
    (urllib.error.URLError('Connection refused'), 'POST /users/shirley/tokens failed: Connection refused'),
    (b'not json', 'answered with a body that is not JSON'),
    (b'{"id": "a1"}', 'answered without a token'),
])
def test_hub_errors_name_operation_and_path_but_no_token(answer, words):
    hub = _hubtokens.HubTokens('http://hub', 'the-api-token', Opener(answer))
    with pytest.raises(_hubtokens.HubTokenError) as caught:
        hub.create('shirley', 3600)
    assert words in str(caught.value)
    assert 'the-api-token' not in str(caught.value)


def test_revoking_a_token_already_gone_is_fine():
    hub = _hubtokens.HubTokens('http://hub', 'api', Opener(http_error(404, 'not found'), http_error(500, 'boom')))
    hub.revoke('shirley', 'a1')
    with pytest.raises(_hubtokens.HubTokenError):
        hub.revoke('shirley', 'a2')
