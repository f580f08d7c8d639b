# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Per-user JupyterHub API tokens for the Livy gate: made, kept and rotated without a hub call per user.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.

Each notebook user's sparkmagic config.json carries the user's gate credentials (Basic_Access, the
user name and a hub token owned by that user) and, under KEY, the token's id and expiry. sparkmagic
reads only the keys it knows, so the extra key is inert for it. A re-run reads the file that is
already there and makes a new token only when it lacks one or when the token expires within the
renewal margin: 10,000 users with valid tokens cost no hub call at all.
"""

from __future__ import annotations

import copy
import datetime
import json
import urllib.error
import urllib.parse

KEY = 'datalake_notebooks_gate'
AUTH = 'Basic_Access'
# What the diff shows instead of a token.
MASK = '********'
# Asking for no scopes gives the narrowest token the hub makes: JupyterHub grants it only the
# scopes that identify its owner (read:users:name and read:users:groups of that user), which is
# all GET /hub/api/user needs.
TOKEN_SCOPES = []
TOKEN_NOTE = 'Livy gate credentials in sparkmagic config.json (datalake.notebooks)'
CREDENTIAL_KEYS = ('kernel_python_credentials', 'kernel_scala_credentials', 'kernel_r_credentials')


class HubTokenError(Exception):
    """A token request failed; `message` names the operation and the path, never a token."""

    def __init__(self, message):
        super(HubTokenError, self).__init__(message)
        self.message = message


def parse_time(text):
    """An aware UTC datetime from the hub's ISO 8601 text ('...Z'); None when unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def current_token(document, user):
    """(token, token id, expiry) held in a parsed config.json for `user`, or (None, None, None)."""
    if not isinstance(document, dict):
        return None, None, None
    meta = document.get(KEY)
    credentials = document.get('kernel_python_credentials')
    if not isinstance(meta, dict) or not isinstance(credentials, dict):
        return None, None, None
    token = credentials.get('password')
    if credentials.get('auth') != AUTH or credentials.get('username') != user or not isinstance(token, str) or not token:
        return None, None, None
    return token, meta.get('token_id'), parse_time(meta.get('expires_at'))


def needs_new_token(document, user, now, renew_before):
    """Whether `user`'s file lacks a usable token, or its token expires within `renew_before` seconds."""
    token, dummy, expires = current_token(document, user)
    if token is None or expires is None:
        return True
    return (expires - now).total_seconds() <= renew_before


def with_credentials(document, user, token, token_id, expires_at):
    """`document` with the gate credentials of `user` in every kernel's credentials, and the metadata."""
    out = copy.deepcopy(document)
    for key in CREDENTIAL_KEYS:
        credentials = out.get(key)
        if isinstance(credentials, dict):
            credentials = dict(credentials)
            credentials.pop('base64_password', None)   # it would win over password
            credentials.update(auth=AUTH, username=user, password=token)
            out[key] = credentials
    out[KEY] = {'token_id': token_id, 'expires_at': expires_at}
    return out


def masked(text, tokens):
    """`text` with every token in `tokens` replaced by MASK."""
    for token in tokens:
        if token:
            text = text.replace(token, MASK)
    return text


class HubTokens:
    """POST and DELETE /hub/api/users/{name}/tokens with an API token that has the `tokens` scope.

    `opener(method, url, data, headers, timeout)` sends one request and returns the response body;
    it raises urllib.error.HTTPError for an HTTP error and OSError (URLError) when the hub cannot be
    reached. The module gives it Ansible's open_url with its TLS settings.
    """

    def __init__(self, url, api_token, opener, timeout=30):
        self.base = url.rstrip('/') + '/hub/api'
        self.api_token = api_token
        self.opener = opener
        self.timeout = timeout

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode('utf-8') if body is not None else None
        headers = {'Authorization': 'token ' + self.api_token, 'Content-Type': 'application/json',
                   'Accept': 'application/json'}
        try:
            raw = self.opener(method, self.base + path, data, headers, self.timeout)
        except urllib.error.HTTPError as exc:
            detail = ''
            try:
                detail = json.loads(exc.read().decode('utf-8')).get('message') or ''
            except (ValueError, AttributeError, UnicodeDecodeError, OSError):
                pass
            raise HubTokenError('%s %s answered %d%s' % (method, path, exc.code, ': %s' % detail if detail else ''))
        except (OSError, ValueError) as exc:
            raise HubTokenError('%s %s failed: %s' % (method, path, getattr(exc, 'reason', exc)))
        if not raw:
            return None
        try:
            return json.loads(raw.decode('utf-8'))
        except (ValueError, UnicodeDecodeError):
            raise HubTokenError('%s %s answered with a body that is not JSON' % (method, path))

    def create(self, user, expires_in):
        """(token, id, expires_at text) of a new token owned by `user`."""
        path = '/users/%s/tokens' % urllib.parse.quote(user, safe='')
        made = self._call('POST', path, {'expires_in': int(expires_in), 'scopes': TOKEN_SCOPES, 'note': TOKEN_NOTE})
        if not isinstance(made, dict) or not made.get('token') or not made.get('id'):
            raise HubTokenError('POST %s answered without a token' % path)
        return made['token'], made['id'], made.get('expires_at')

    def revoke(self, user, token_id):
        """Delete token `token_id` of `user`; one already gone is fine."""
        path = '/users/%s/tokens/%s' % (urllib.parse.quote(user, safe=''), urllib.parse.quote(str(token_id), safe=''))
        try:
            self._call('DELETE', path)
        except HubTokenError as exc:
            if ' answered 404' not in str(exc):
                raise
