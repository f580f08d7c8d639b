"""When a user's gate token is kept or made anew, and how it is written into config.json."""

from __future__ import annotations

import datetime
import json

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


def test_hub_errors_name_operation_and_path_but_no_token():
    hub = _hubtokens.HubTokens('http://127.0.0.1:9', 'the-api-token', timeout=2)
    with pytest.raises(_hubtokens.HubTokenError) as caught:
        hub.create('shirley', 3600)
    assert 'POST /users/shirley/tokens failed' in str(caught.value)
    assert 'the-api-token' not in str(caught.value)
