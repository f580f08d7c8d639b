# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""JupyterHub REST API client: one session, bounded retries with backoff, pagination, clear errors.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python plus `requests`: no Ansible import, so the pure parts are unit-tested alone.

Every error is a HubError whose message names the operation and the URL and never contains the
API token: the token only travels in the Authorization header, every exception of the HTTP stack is
turned into a HubError whose text is scrubbed, and the original exception is not chained to it.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback

from urllib.parse import quote, urlencode, urlsplit

from ansible_collections.datalake.notebooks.plugins.module_utils._http import root_cause

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError:  # handled by the module with missing_required_lib('requests')
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

API_PREFIX = '/hub/api'
PAGINATION_MEDIA_TYPE = 'application/jupyterhub-pagination+json'
# The hub clamps `limit` to its api_page_max_limit (200 unless configured), so asking for more
# costs nothing and lets hubs configured with bigger pages answer in fewer requests.
PAGE_LIMIT = 1000
# Attempts per request (1 + retries) and the backoff between them.
MAX_ATTEMPTS = 4
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))

# Pages of GET /users followed at most: 200,000 users at the hub's default api_page_max_limit of
# 200. A hub whose `next` never ends (a bug, or not a hub) is stopped here instead of looping.
MAX_PAGES = 1000

READ_SCOPE = 'list:users'
WRITE_SCOPE = 'admin:users'


class HubError(Exception):
    """A failed hub operation; str() is the whole message for the user, without secrets."""

    def __init__(self, message, status=None, url=None, body=None):
        super(HubError, self).__init__(message)
        self.message = message
        self.status = status
        self.url = url
        self.body = body

    def context(self):
        """Extra keys for fail_json."""
        result = {}
        if self.status is not None:
            result['status'] = self.status
        if self.url is not None:
            result['api_url'] = self.url
        return result


# ---------------------------------------------------------------------------------------------
# Pure helpers (unit-tested)

def api_base(url):
    """The API root for a hub's public base URL: 'https://h:9443/' -> 'https://h:9443/hub/api'.

    A refused URL is shown without its query, fragment or user info: JupyterHub takes a token in a
    `?token=` parameter, so whatever follows the path may be a credential.
    """
    if not url:
        raise HubError('url is empty: give the hub\'s public base URL, for example https://master:9443.')
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced IPv6 bracket
        parts = None
    shown = url.split('?', 1)[0].split('#', 1)[0]
    if parts is not None and '@' in parts.netloc:
        shown = '%s://%s%s' % (parts.scheme, parts.netloc.rsplit('@', 1)[1], parts.path)
    if parts is None or parts.scheme not in ('http', 'https') or not parts.hostname:
        raise HubError('url %r is not an http(s) URL: give the hub\'s public base URL, '
                       'for example https://master:9443.' % shown)
    if parts.query or parts.fragment or '?' in url or '#' in url:
        raise HubError('url %s has a query or fragment (not shown, it may hold a token): give the hub\'s public '
                       'base URL, for example https://master:9443, and the token in api_token.' % shown)
    if '@' in parts.netloc:
        raise HubError('url %s has user info (not shown): give the hub\'s public base URL, for example '
                       'https://master:9443; the hub authenticates the token in api_token.' % shown)
    return '%s://%s%s%s' % (parts.scheme, parts.netloc, parts.path.rstrip('/'), API_PREFIX)


def user_path(name):
    """The API path of one user, the name quoted as one path segment."""
    return '/users/' + quote(name, safe='')


def list_query(offset, limit=PAGE_LIMIT):
    return '/users?' + urlencode([('offset', offset), ('limit', limit)])


def next_offset(body, offset):
    """From one page of GET /users, the offset of the next page, or None when it was the last.

    Reads `_pagination.next.offset` rather than following `_pagination.next.url`: the hub builds
    that URL from the request it saw, which behind a TLS-terminating proxy can be its internal
    http:// address. A hub without pagination (before 2.0) answers a plain list: one page.
    The hub only sends `next` while offset + limit < total, so an empty page, or a `next` at or past
    `_pagination.total`, is the end too, whatever `next` says.
    """
    if isinstance(body, list):
        return None
    pagination = body.get('_pagination') if isinstance(body, dict) else None
    if not isinstance(pagination, dict):
        raise ValueError('no "_pagination" object in a paginated answer')
    following = pagination.get('next')
    if not following or not body.get('items'):
        return None
    if not isinstance(following, dict) or not isinstance(following.get('offset'), int):
        raise ValueError('"_pagination.next" has no integer "offset"')
    if following['offset'] <= offset:
        raise ValueError('"_pagination.next.offset" (%s) does not move past offset %s'
                         % (following['offset'], offset))
    total = pagination.get('total')
    if isinstance(total, int) and not isinstance(total, bool) and following['offset'] >= total:
        return None
    return following['offset']


def page_items(body):
    """The user models of one page (paginated dict, or the legacy plain list)."""
    items = body if isinstance(body, list) else (body.get('items') if isinstance(body, dict) else None)
    if not isinstance(items, list):
        raise ValueError('no "items" list')
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get('name'), str):
            raise ValueError('a user without a "name"')
    return items


def is_retryable_status(status):
    """Transient answers worth another try: rate limiting and a hub or proxy in trouble."""
    return status in RETRY_STATUSES


def backoff_delay(attempt, retry_after=None, rand=random.random):
    """Seconds to wait before attempt number `attempt` + 1 (attempt counts from 1).

    Exponential with jitter, capped; a server's Retry-After (seconds) is honoured up to the cap.
    """
    if retry_after is not None:
        try:
            seconds = float(retry_after)
        except (TypeError, ValueError):
            seconds = None
        if seconds is not None and seconds >= 0:
            return min(seconds, BACKOFF_CAP)
    delay = min(BACKOFF_BASE * (2 ** (attempt - 1)), BACKOFF_CAP)
    return delay / 2 + rand() * delay / 2


def hub_message(body_text):
    """The "message" of a JupyterHub JSON error body, else a short excerpt of the body."""
    try:
        data = json.loads(body_text)
    except (TypeError, ValueError):
        data = None
    if isinstance(data, dict) and data.get('message'):
        return str(data['message'])
    text = ' '.join((body_text or '').split())
    return text[:200] + ('...' if len(text) > 200 else '')


def scrub(text, secrets):
    """`text` with every secret replaced by ********."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, '********')
    return text


def clean_token(token):
    """The token as it goes into the Authorization header: surrounding whitespace removed.

    A YAML block scalar or a file read whole leaves a final newline, which the HTTP stack refuses
    with an error that quotes the header, token included. What is left must be printable ASCII
    without spaces (hub tokens are hex); the message never shows the token.
    """
    if token is None:
        token = ''
    if not isinstance(token, str):
        raise HubError('The API token is not a string: give api_token (or JUPYTERHUB_API_TOKEN) as text.')
    cleaned = token.strip()
    if not cleaned:
        raise HubError('The API token is empty (or only whitespace): set api_token, or JUPYTERHUB_API_TOKEN '
                       'in the environment of the task.')
    for position, char in enumerate(cleaned, 1):
        if not '!' <= char <= '~':
            kind = 'whitespace or a control character' if char.isspace() or ord(char) < 32 or ord(char) == 127 \
                else 'a character that is not printable ASCII'
            raise HubError('The API token (api_token or JUPYTERHUB_API_TOKEN) has %s at position %d of %d '
                           '(after removing surrounding whitespace); it is not shown. Give the token exactly as '
                           'JupyterHub issued it.' % (kind, position, len(cleaned)))
    return cleaned


def http_error_message(method, url, status, body_text, scope, what):
    """The message for a hub answer that is not a success.

    `scope` is the scope the operation needs, `what` says what was being done.
    """
    message = hub_message(body_text)
    where = '%s %s' % (method, url)
    if status in (401, 403):
        if 'invalid credentials' in message.lower() or status == 401:
            return ('JupyterHub rejected the API token while trying to %s (%s: HTTP %s "%s"). The token is '
                    'wrong, expired or revoked: use a token of a service or user whose role grants %s.'
                    % (what, where, status, message, scope))
        if 'only admins' in message.lower():
            return ('JupyterHub refused to %s (%s: HTTP %s "%s"). Creating admin users needs the token of a '
                    'hub admin; %s alone is not enough.' % (what, where, status, message, scope))
        return ('The API token is not allowed to %s (%s: HTTP %s "%s"). Its role is missing the scope %s '
                '(%s to read users, %s to create or remove them).'
                % (what, where, status, message, scope, READ_SCOPE, WRITE_SCOPE))
    if status == 404 or 300 <= status < 400:
        return ('No JupyterHub API at %s (HTTP %s) while trying to %s. Check url: it must be the hub\'s '
                'public base URL (for example https://master:9443, plus any base_url prefix), without %s.'
                % (url, status, what, API_PREFIX))
    return 'JupyterHub failed to %s (%s: HTTP %s "%s").' % (what, where, status, message)


def connection_error_message(base, exc, what):
    """The message for a request that got no HTTP answer."""
    reason = root_cause(exc)
    if _is_tls_error(exc):
        if 'CERTIFICATE_VERIFY_FAILED' in reason or 'certificate' in reason.lower():
            return ('TLS verification failed for JupyterHub at %s while trying to %s: %s. If the hub uses '
                    'a private CA or a self-signed certificate, set ca_path to that CA\'s PEM file.'
                    % (base, what, reason))
        return ('TLS handshake with JupyterHub at %s failed while trying to %s: %s. Does the hub serve '
                'this scheme (http or https) on this port?' % (base, what, reason))
    if requests is not None and isinstance(exc, requests.exceptions.Timeout):
        return ('JupyterHub at %s did not answer in time while trying to %s: %s. Is the hub overloaded, '
                'or should timeout be larger?' % (base, what, reason))
    return ('Cannot reach JupyterHub at %s while trying to %s: %s. Is the hub running, and is url its '
            'public address?' % (base, what, reason))


def _is_tls_error(exc):
    if requests is not None and isinstance(exc, requests.exceptions.SSLError):
        return True
    return 'CERTIFICATE_VERIFY_FAILED' in str(exc)


def is_retryable_exception(exc):
    """Connection refused/reset and timeouts are retried; TLS failures never get better."""
    if requests is None or _is_tls_error(exc):
        return False
    return isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout))


# ---------------------------------------------------------------------------------------------
# The client

class HubClient(object):
    """The part of the JupyterHub REST API that the collection uses, over one keep-alive session."""

    def __init__(self, url, token, validate_certs=True, ca_path=None, timeout=30,
                 sleep=time.sleep, user_agent='datalake.notebooks'):
        self.base = api_base(url)
        if ca_path and not os.path.isfile(ca_path):
            raise HubError('ca_path %s is not a readable file: give the PEM file of the CA that signed the '
                           'hub\'s certificate.' % ca_path)
        self.public_url = url.rstrip('/')
        # Both forms are scrubbed from messages: Ansible masks only the value it was given.
        self._secrets = [token, None]
        self._token = clean_token(token)
        self._secrets[1] = self._token
        self.timeout = timeout
        self._sleep = sleep
        self.retries = 0  # how many retries were needed, for the module's result
        self.session = requests.Session()
        self.session.headers.update({'Accept': 'application/json', 'User-Agent': user_agent})
        # The token as the session's auth (not a default header), so requests never replaces it with
        # credentials from ~/.netrc; proxies from the environment still apply.
        self.session.auth = self._authorize
        # Passed with each request: requests lets REQUESTS_CA_BUNDLE override a session's verify.
        self._verify = True
        if not validate_certs:
            self._verify = False
            try:
                import urllib3
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            except ImportError:  # pragma: no cover
                pass
        elif ca_path:
            self._verify = ca_path

    def _authorize(self, request):
        request.headers['Authorization'] = 'token %s' % self._token
        return request

    def close(self):
        self.session.close()

    def _request(self, method, path, what, scope, json_body=None, headers=None, ok=(200,)):
        """(status, parsed JSON or None) of one API call, retried while the failure is transient.

        Statuses in `ok` are success; any other answer raises a HubError.
        """
        url = self.base + path
        attempt = 0
        while True:
            attempt += 1
            failure = None
            try:
                response = self.session.request(method, url, json=json_body, headers=headers, verify=self._verify,
                                                timeout=self.timeout, allow_redirects=False)
            except (requests.exceptions.RequestException, OSError) as exc:
                if attempt < MAX_ATTEMPTS and is_retryable_exception(exc):
                    self.retries += 1
                    self._sleep(backoff_delay(attempt))
                    continue
                failure = connection_error_message(self.public_url, exc, what)
            except Exception as exc:  # pylint: disable=broad-except
                # Whatever else the HTTP stack raises (urllib3, http.client, an encoding error) must
                # not leave as a traceback that may quote the request.
                failure = ('Request %s %s failed while trying to %s: %s: %s'
                           % (method, url, what, exc.__class__.__name__, root_cause(exc)))
            if failure is not None:
                # Raised outside the except clause, so the original exception is not chained to it.
                raise HubError(self._scrub(failure), url=url)
            if response.status_code not in ok and is_retryable_status(response.status_code) \
                    and attempt < MAX_ATTEMPTS:
                self.retries += 1
                self._sleep(backoff_delay(attempt, response.headers.get('Retry-After')))
                continue
            break
        if response.status_code not in ok:
            raise HubError(self._scrub(http_error_message(method, url, response.status_code, response.text,
                                                          scope, what)),
                           status=response.status_code, url=url, body=self._scrub(response.text[:2000]))
        if response.status_code == 204 or not response.content:
            return response.status_code, None
        try:
            return response.status_code, response.json()
        except ValueError:
            # from None: the decoder's exception quotes the body, which is not scrubbed.
            raise HubError(self._scrub(
                'JupyterHub answered %s %s with HTTP %s but the body is not JSON (Content-Type %s): %s. '
                'Is url the JupyterHub itself and not another server or a login page?'
                % (method, url, response.status_code, response.headers.get('Content-Type', 'none'),
                   hub_message(response.text))), status=response.status_code, url=url) from None

    def _scrub(self, text):
        return scrub(text, self._secrets)

    def version(self):
        """The hub's version; proves url, TLS and reachability before anything needs the token."""
        dummy, body = self._request('GET', '/', 'read the hub version', READ_SCOPE)
        if not isinstance(body, dict) or 'version' not in body:
            raise HubError('%s/ answered without a "version": not a JupyterHub API. Check url.' % self.base,
                           url=self.base + '/')
        return str(body['version'])

    def list_users(self):
        """{name: user model} of every hub user, page by page (paginated API, biggest pages).

        Stops on the last page, an empty page or `_pagination.total`; fails after MAX_PAGES pages.
        """
        users = {}
        offset = 0
        for dummy_page in range(MAX_PAGES):
            path = list_query(offset)
            dummy, body = self._request('GET', path, 'list users', READ_SCOPE,
                                        headers={'Accept': PAGINATION_MEDIA_TYPE})
            try:
                items = page_items(body)
                following = next_offset(body, offset)
            except ValueError as exc:
                raise HubError('JupyterHub answered GET %s%s with an unexpected body: %s.'
                               % (self.base, path, exc), url=self.base + path) from None
            for item in items:
                users[item['name']] = item
            if following is None:
                return users
            offset = following
        raise HubError('JupyterHub kept answering GET %s/users with further pages: stopped at the cap of %d pages, '
                       'with %d users so far and the next page at %s%s. Its "_pagination.next" never ends: is url '
                       'a JupyterHub, and is its api_page_max_limit very small?'
                       % (self.base, MAX_PAGES, len(users), self.base, list_query(offset)),
                       url=self.base + list_query(offset))

    def create_users(self, names, admin=False):
        """Create `names` in one request; the names the hub created (it may normalize them)."""
        body = {'usernames': list(names)}
        if admin:
            body['admin'] = True
        status, created = self._request('POST', '/users', 'create users', WRITE_SCOPE, json_body=body,
                                        ok=(201, 409))
        if status == 409:
            # Every name exists already: an earlier, retried attempt of this request created them.
            return []
        if not isinstance(created, list):
            raise HubError('JupyterHub answered POST %s/users without a list of created users.' % self.base,
                           url=self.base + '/users')
        return [item['name'] for item in created if isinstance(item, dict) and 'name' in item]

    def delete_user(self, name):
        """Remove one user (the hub stops their servers first). False when it was already gone."""
        status, dummy = self._request('DELETE', user_path(name), 'remove user %r' % name, WRITE_SCOPE,
                                      ok=(204, 404))
        return status == 204


# ---------------------------------------------------------------------------------------------
# What to change

def plan(current, wanted, state, exclusive, admins=()):
    """(to_create, to_remove, kept) for hub users `current` and requested `wanted`.

    `wanted` None means read only. With exclusive, hub users not in `wanted` are removed except
    hub admins (`admins`), which are returned as `kept`.
    """
    current = set(current)
    if wanted is None:
        return [], [], []
    wanted = set(wanted)
    if state == 'absent':
        return [], sorted(wanted & current), []
    to_create = sorted(wanted - current)
    to_remove, kept = [], []
    if exclusive:
        extra = current - wanted
        kept = sorted(extra & set(admins))
        to_remove = sorted(extra - set(admins))
    return to_create, to_remove, kept


def ensure_users(client, wanted, state='present', admin=False, exclusive=False, check_mode=False):
    """Make the hub's users match the request; the module's result as a dict.

    `before` in the result is the sorted user list before any change (for diff mode). A failure
    after a change was made raises HubUsersError carrying what was done so far.
    """
    hub_version = client.version()
    current = client.list_users()
    admins = [name for name, model in current.items() if model.get('admin')]
    to_create, to_remove, kept = plan(current, wanted, state, exclusive, admins)
    after = set(current)
    result = {'changed': False, 'created': [], 'removed': [], 'kept_admins': kept,
              'hub_version': hub_version, 'before': sorted(current)}

    def done():
        result['changed'] = bool(result['created'] or result['removed'])
        result['users'] = sorted(after)
        return result

    try:
        if to_create:
            created = to_create if check_mode else client.create_users(to_create, admin=admin)
            result['created'] = sorted(created)
            after.update(created)
            missing = set(to_create) - set(created)
            if missing:
                # The hub skips names that exist (an earlier, retried attempt) and may store a name
                # differently (its authenticator's normalize_username, e.g. lowercased); the latter
                # would be "missing" on every run, so say so instead of reporting success.
                present = set(client.list_users())
                after.update(present & missing)
                renamed = sorted(missing - present)
                if renamed:
                    raise HubError(
                        'JupyterHub stored users under other names than requested (its authenticator '
                        'normalizes names, for example to lowercase): %s was asked for, %s was created. '
                        'List the users as the hub names them.'
                        % (', '.join(renamed), ', '.join(sorted(set(created) - set(to_create))) or 'nothing'))
        for name in to_remove:
            if not check_mode:
                client.delete_user(name)
            result['removed'].append(name)
            after.discard(name)
    except HubError as exc:
        raise HubUsersError(exc.message, done(), status=exc.status, url=exc.url)
    return done()


class HubUsersError(HubError):
    """A HubError during changes: `result` says what was done before it."""

    def __init__(self, message, result, status=None, url=None):
        super(HubUsersError, self).__init__(message, status=status, url=url)
        self.result = result
