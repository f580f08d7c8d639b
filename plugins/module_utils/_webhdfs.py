# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The WebHDFS backend for HDFS home directories: NameNode REST calls over keep-alive sessions.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
The parsing helpers at the top are plain Python, unit-tested alone; `requests` (and
`requests_gssapi` for Kerberos) are only needed by `WebHdfsBackend`.

MKDIRS, SETOWNER, SETPERMISSION, DELETE and LISTSTATUS are answered by the NameNode itself (no
DataNode redirect), so every request goes to the active NameNode. LISTSTATUS is one request
whatever the size of the directory: the NameNode pages through the directory internally
(dfs.ls.limit entries a page) and streams the whole listing in one response.

No credential reaches a message or a result: the backend never sends a delegation token, a
NameNode URL with a query (where one would travel) is refused, a password in a URL is shown as
********, and every text taken from an exception or an answer goes through `redact`.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from ansible_collections.datalake.notebooks.plugins.module_utils._http import root_cause
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import (
    FatalHdfsError,
    FileStatus,
    HdfsBackend,
    HdfsError,
    SafeModeError,
)

try:
    import requests
    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the managed node
    requests = None
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc

try:
    import gssapi
    from requests_gssapi import HTTPSPNEGOAuth, OPTIONAL
    HAS_GSSAPI = True
    GSSAPI_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the managed node
    gssapi = None
    HTTPSPNEGOAuth = None
    OPTIONAL = None
    HAS_GSSAPI = False
    GSSAPI_IMPORT_ERROR = exc

API_PREFIX = '/webhdfs/v1'

# Exceptions meaning "this NameNode is not the one to ask": try the next one in the list.
STANDBY_EXCEPTIONS = ('StandbyException', 'ObserverRetryOnActiveException')

HIDDEN = '********'
# Credentials as they can appear in a URL, a header or a cookie quoted by an exception or an answer:
# WebHDFS's `delegation` (and `token` of RENEWDELEGATIONTOKEN) query parameters, SPNEGO/Basic/Bearer
# Authorization values, the hadoop.auth cookie, and a password in a URL's user info.
_REDACTIONS = (
    (re.compile(r'(?i)\b(delegation|token|password|passwd|secret)=[^&\s\'")]+'), r'\1=' + HIDDEN),
    (re.compile(r'(?i)\b(Negotiate|Basic|Bearer)( +)[A-Za-z0-9+/=._~-]{16,}'), r'\1\2' + HIDDEN),
    (re.compile(r'(?i)\b(hadoop\.auth=)"?[^";\s]+"?'), r'\1' + HIDDEN),
    (re.compile(r'(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]*@'), r'\1:' + HIDDEN + '@'),
)


# ---------------------------------------------------------------------------------------------
# Parsing (pure)


def redact(text):
    """`text` with every credential it may quote (see _REDACTIONS) replaced by ********."""
    text = text if isinstance(text, str) else str(text)
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


def normalize_namenode_url(url):
    """'nn1:9870' -> 'http://nn1:9870'; a trailing '/' or '/webhdfs/v1' is dropped.

    A query or a fragment is refused (ValueError naming the parameters, not their values): the
    operation path and query are added here, and a `delegation` parameter would be a credential.
    """
    url = url.strip()
    if '://' not in url:
        url = 'http://' + url
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(('?', '#')):
        names = sorted(set(name for name, dummy in parse_qsl(parts.query, keep_blank_values=True)))
        raise ValueError(
            'namenode_url %s has a %s%s: give only the NameNode\'s HTTP address, scheme://host:port '
            '(for example http://nn1:9870). The module adds the WebHDFS path and query itself and sends no '
            'delegation token: it authenticates as hdfs_user, or with Kerberos (kerberos=true).'
            % (display_url(urlunsplit(parts[:3] + ('', ''))),
               'query string' if parts.query or url.endswith('?') else 'fragment',
               ' (parameters: %s)' % ', '.join(names) if names else ''))
    url = url.rstrip('/')
    if url.endswith(API_PREFIX):
        url = url[:-len(API_PREFIX)]
    return url.rstrip('/')


def display_url(url):
    """`url` as it may be shown: a password in its user info replaced by ********."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = '%s:%s@%s' % (parts.username or '', HIDDEN, parts.netloc.rsplit('@', 1)[1])
    return urlunsplit((parts.scheme, netloc) + tuple(parts[2:]))


def operation_url(namenode, path):
    """The WebHDFS URL of `path` on `namenode`; every byte of a name but '/' is percent-encoded."""
    return namenode + API_PREFIX + quote(path, safe='/')


def permission_from_text(text):
    """The int of WebHDFS's octal permission string ('750', '1777')."""
    return int(str(text), 8)


def permission_param(mode):
    """The `permission` query value for an int mode: '750', '1777'."""
    return '%o' % mode


def parse_file_status(entry):
    """A FileStatus from one WebHDFS FileStatus JSON object."""
    children = entry.get('childrenNum')
    return FileStatus(
        kind=entry.get('type', 'FILE'),
        owner=entry.get('owner'),
        group=entry.get('group'),
        permission=permission_from_text(entry.get('permission', '0')),
        children=int(children) if children is not None else None,
    )


def parse_liststatus(document):
    """{name: FileStatus} from a LISTSTATUS answer ({"FileStatuses": {"FileStatus": [...]}})."""
    try:
        entries = document['FileStatuses']['FileStatus']
    except (KeyError, TypeError):
        raise ValueError('not a LISTSTATUS answer: %s' % _abbreviate(document))
    return dict((entry['pathSuffix'], parse_file_status(entry)) for entry in entries)


def parse_remote_exception(status_code, body):
    """(exception, java class, message) from a WebHDFS error answer.

    The NameNode answers {"RemoteException": {"exception", "javaClassName", "message"}}; a proxy
    or a misconfigured port answers something else, which is returned abbreviated as the message.
    """
    document = None
    if isinstance(body, (bytes, bytearray)):
        body = body.decode('utf-8', 'replace')
    try:
        document = json.loads(body) if body else None
    except ValueError:
        document = None
    if isinstance(document, dict) and isinstance(document.get('RemoteException'), dict):
        remote = document['RemoteException']
        return (remote.get('exception'), remote.get('javaClassName'),
                remote.get('message') or 'HTTP %s' % status_code)
    text = (body or '').strip()
    return None, None, 'HTTP %s%s' % (status_code, (': ' + _abbreviate(text)) if text else '')


def is_standby(exception, message):
    """True when this NameNode cannot serve the request but another one may: a standby or observer,
    or one still starting ("NameNode still not started", a RetriableException)."""
    if exception in STANDBY_EXCEPTIONS:
        return True
    if exception == 'RetriableException' and not is_safemode(exception, message):
        return True
    return bool(message) and 'Operation category' in message and 'is not supported in state standby' in message


def is_safemode(exception, message):
    """True for SafeModeException and for the RetriableException an HA NameNode wraps it in."""
    if exception == 'SafeModeException':
        return True
    text = (message or '').lower()
    return exception in ('RetriableException', None) and 'safe mode' in text


def _abbreviate(value, limit=300):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + '...'


# ---------------------------------------------------------------------------------------------
# The backend


class WebHdfsBackend(HdfsBackend):
    """HDFS through the NameNodes' WebHDFS REST API.

    `namenodes` is every NameNode of the nameservice: a standby or unreachable one is skipped and
    the active one is remembered for the rest of the run. Batches of writes are spread over
    `workers` threads, each with its own keep-alive session.
    """

    name = 'webhdfs'

    def __init__(self, namenodes, user=None, kerberos=False, verify=True, timeout=30, workers=16,
                 safemode_timeout=60, ccache=None, **kwargs):
        super(WebHdfsBackend, self).__init__(safemode_timeout=safemode_timeout, **kwargs)
        if not namenodes:
            raise ValueError('at least one NameNode URL is needed')
        self.namenodes = []
        # A refused URL fails the first call, which the module reports like any other HDFS error.
        self._refused = None
        for url in namenodes:
            try:
                self.namenodes.append(normalize_namenode_url(url))
            except ValueError as exc:
                self._refused = self._refused or FatalHdfsError(redact(exc))
                self.namenodes.append('namenode_url #%d' % (len(self.namenodes) + 1))
        self._shown = [display_url(url) for url in self.namenodes]
        self.user = None if kerberos else user
        self.kerberos = kerberos
        # A credential cache of the module's own (kerberos_keytab): SPNEGO takes its ticket from
        # there, never from the default cache of whoever runs the module.
        self.ccache = ccache
        self.verify = verify
        self.timeout = timeout
        self.workers = max(1, int(workers))
        self._active = 0
        self._local = threading.local()
        self._sessions = []

    @property
    def identity(self):
        """The user new directories belong to: known for simple auth only."""
        return self.user

    @property
    def active_namenode(self):
        """The NameNode in use, as it may be shown (no password)."""
        return self._shown[self._active]

    def _session(self):
        session = getattr(self._local, 'session', None)
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
            session.mount('http://', adapter)
            session.mount('https://', adapter)
            session.verify = self.verify
            if self.kerberos:
                # Hadoop answers the first negotiation with a hadoop.auth cookie that the session
                # keeps, so later requests skip the SPNEGO round trip.
                creds = None
                if self.ccache:
                    creds = gssapi.Credentials(usage='initiate', store={'ccache': self.ccache})
                session.auth = HTTPSPNEGOAuth(mutual_authentication=OPTIONAL, creds=creds)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self):
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def call(self, method, op, path, write=False, **params):
        """Send one operation to the active NameNode; return the decoded JSON (or None).

        Raises HdfsError with the NameNode's message, SafeModeError is retried here until
        `safemode_timeout`, FatalHdfsError when no NameNode is active or authentication fails.
        """
        if self._refused is not None:
            raise FatalHdfsError(self._refused.message, op=op, path=path)
        query = {'op': op}
        if self.user:
            query['user.name'] = self.user
        query.update((key, value) for key, value in params.items() if value is not None)
        while True:
            try:
                return self._call_active(method, op, path, query)
            except SafeModeError as error:
                if not write:
                    raise
                self.wait_for_safemode(error)

    def _call_active(self, method, op, path, query):
        session = self._session()
        failures = []
        first = self._active
        count = len(self.namenodes)
        for step in range(count):
            index = (first + step) % count
            namenode, shown = self.namenodes[index], self._shown[index]
            fatal = None
            try:
                # verify with each request: requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override
                # a session's verify (validate_certs=false or ca_path), never a request's.
                response = session.request(method, operation_url(namenode, path), params=query, verify=self.verify,
                                           timeout=self.timeout, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                reason = redact(root_cause(exc))
                hint = ' (set ca_path to the PEM file of its CA)' if 'CERTIFICATE_VERIFY_FAILED' in reason else ''
                failures.append('%s: TLS error: %s%s' % (shown, reason, hint))
                continue
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                failures.append('%s: %s' % (shown, _connection_reason(exc)))
                continue
            except Exception as exc:  # pylint: disable=broad-except
                # Anything else (a CA bundle that cannot be read, a Kerberos failure, an encoding
                # error) becomes a message here, so no traceback can quote the request.
                fatal = request_failure(shown, exc)
            finally:
                self.count_request()
            if fatal is not None:
                # Raised outside the except clause: the original exception is not chained to it.
                raise FatalHdfsError(fatal, op=op, path=path)
            if 200 <= response.status_code < 300:
                if index != self._active:
                    self._active = index
                if not response.content:
                    return None
                try:
                    return response.json()
                except ValueError:
                    unreadable = 'unreadable answer: %s' % redact(_abbreviate(response.text))
                raise HdfsError(unreadable, op=op, path=path)
            exception, java_class, message = parse_remote_exception(response.status_code, response.content)
            message = redact(message)
            if is_standby(exception, message):
                failures.append('%s: standby' % shown)
                continue
            if is_safemode(exception, message):
                raise SafeModeError(message, op=op, path=path, exception=exception)
            if response.status_code in (401, 407):
                raise FatalHdfsError(refused_message(shown, response.status_code, message, self.kerberos),
                                     op=op, path=path, exception=exception)
            if response.status_code == 404 and exception is None:
                raise FatalHdfsError(
                    '%s has no WebHDFS endpoint (HTTP 404 for %s): is this the NameNode HTTP address '
                    'and is dfs.webhdfs.enabled true?' % (shown, API_PREFIX), op=op, path=path)
            if index != self._active:
                self._active = index
            raise HdfsError(message, op=op, path=path, exception=exception)
        raise FatalHdfsError('No active NameNode answered %s %s: %s' % (op, path, '; '.join(failures)),
                             op=op, path=path)

    # Operations -----------------------------------------------------------------------------

    def list_dir(self, path):
        try:
            document = self.call('GET', 'LISTSTATUS', path)
        except HdfsError as error:
            if error.exception == 'FileNotFoundException':
                return None
            raise
        try:
            return parse_liststatus(document)
        except ValueError as exc:
            raise FatalHdfsError(redact(exc), op='LISTSTATUS', path=path)

    def count_children(self, paths):
        return self._batch(paths, lambda path: len(self.list_dir(path) or {}), results=True)

    def mkdirs(self, paths, mode):
        permission = permission_param(mode)

        def one(path):
            answer = self.call('PUT', 'MKDIRS', path, write=True, permission=permission)
            if not (isinstance(answer, dict) and answer.get('boolean') is True):
                raise HdfsError('MKDIRS answered %s' % _abbreviate(answer), op='MKDIRS', path=path)
        return self._batch(paths, one)

    def set_owner(self, entries):
        wanted = dict((path, (owner, group)) for path, owner, group in entries)

        def one(path):
            owner, group = wanted[path]
            self.call('PUT', 'SETOWNER', path, write=True, owner=owner, group=group)
        return self._batch(list(wanted), one)

    def set_permission(self, paths, mode):
        permission = permission_param(mode)

        def one(path):
            self.call('PUT', 'SETPERMISSION', path, write=True, permission=permission)
        return self._batch(paths, one)

    def delete(self, paths, recursive):
        flag = 'true' if recursive else 'false'

        def one(path):
            answer = self.call('DELETE', 'DELETE', path, write=True, recursive=flag)
            if not (isinstance(answer, dict) and answer.get('boolean') is True):
                raise HdfsError('DELETE answered %s (nothing was removed)' % _abbreviate(answer),
                                op='DELETE', path=path)
        return self._batch(paths, one)

    def _batch(self, paths, work, results=False):
        """Run work(path) for every path, `workers` at a time; {path: HdfsError} (or results).

        A FatalHdfsError stops the batch: the writes not yet sent are dropped and it is raised.
        """
        outcome = {}

        def guarded(path):
            if stop.is_set():
                return
            try:
                value = work(path)
            except FatalHdfsError:
                stop.set()
                raise
            except HdfsError as error:
                outcome[path] = error
            else:
                if results:
                    outcome[path] = value

        stop = threading.Event()
        if len(paths) <= 1 or self.workers == 1:
            for path in paths:
                guarded(path)
            return outcome
        with ThreadPoolExecutor(max_workers=min(self.workers, len(paths))) as pool:
            futures = [pool.submit(guarded, path) for path in paths]
            fatal = None
            for future in futures:
                try:
                    future.result()
                except FatalHdfsError as error:
                    fatal = fatal or error
        if fatal is not None:
            raise fatal
        return outcome


def refused_message(namenode, status, message, kerberos):
    """The message for a NameNode that answered 401/407 to our credentials."""
    # Jetty's own error page is HTML: its title is what it says.
    title = re.search(r'(?is)<title>(.*?)</title>', message)
    if title:
        message = ' '.join(title.group(1).split())
    if kerberos:
        return ('%s refused the request (HTTP %s: %s): no Kerberos ticket was accepted. The credential cache '
                'holds no valid ticket (give kerberos_keytab and kerberos_principal, or kinit first), or the '
                'NameNode\'s HTTP/ principal is not the one of the host name in namenode_url.'
                % (namenode, status, message))
    return ('%s refused the credentials (HTTP %s: %s). The cluster may use Kerberos: set kerberos=true with '
            'kerberos_keytab and kerberos_principal; with simple auth check hdfs_user.' % (namenode, status, message))


def _connection_reason(exc):
    text = str(exc)
    for marker in ('Connection refused', 'Name or service not known', 'timed out',
                   'No route to host', 'Temporary failure in name resolution'):
        if marker in text:
            return marker.lower()
    return redact(_abbreviate(root_cause(exc), 200))


def request_failure(namenode, exc):
    """The message for a request to `namenode` that failed with `exc` before any HTTP answer."""
    reason = redact(_abbreviate(root_cause(exc), 300))
    kind = exc.__class__.__name__
    if 'CA certificate bundle' in reason or (isinstance(exc, OSError) and 'certificate' in reason.lower()):
        return ('%s: cannot read the CA bundle to verify its certificate (%s). Set ca_path to a readable PEM '
                'file, and check REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE in the environment of the task.'
                % (namenode, reason))
    if exc.__class__.__module__.startswith(('requests_gssapi', 'gssapi', 'spnego')):
        return ('%s: Kerberos (SPNEGO) authentication failed: %s: %s. Hold a ticket (kinit, or a keytab) '
                'for a principal the NameNode accepts, and use the NameNode\'s host name in namenode_url.'
                % (namenode, kind, reason))
    return '%s: the request failed: %s: %s' % (namenode, kind, reason)
