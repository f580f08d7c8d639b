# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The RPC backend for HDFS home directories: the NameNode's own client protocol, over `hdfs-native`.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
The helpers at the top are plain Python, unit-tested alone; `hdfs_native` (a Rust HDFS client
with Python bindings) is only needed by `RpcHdfsBackend`.

A NameNode answers an RPC call for a fraction of what the same operation costs it over WebHDFS
(no HTTP parsing, no JSON, no per-request authentication filter), and hdfs-native multiplexes
every call of a batch over one connection. Each home costs what the plan says and nothing more:
the NameNode stores the permission a `mkdirs` call carries as it is (it never applies a umask;
Hadoop's own client masks with `fs.permissions.umask-mode` before sending, hdfs-native does not),
so a new home is one `mkdirs` with its mode and one `setOwner`.

NameNode discovery and HA are hdfs-native's, which reads the same keys as Hadoop's client:
`fs.defaultFS`, `dfs.ha.namenodes.<ns>`, `dfs.namenode.rpc-address.<ns>.<nn>`; it skips a
standby and fails over to the other NameNode on a StandbyException.
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
from urllib.parse import urlsplit

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import (
    FatalHdfsError,
    FileStatus,
    HdfsBackend,
    HdfsError,
    SafeModeError,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_site import (
    default_fs_host,
    find_conf_dir,
    read_site_xml,
)

try:
    import hdfs_native
    HAS_HDFS_NATIVE = True
    HDFS_NATIVE_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the managed node
    hdfs_native = None
    HAS_HDFS_NATIVE = False
    HDFS_NATIVE_IMPORT_ERROR = exc

DEFAULT_RPC_PORT = 8020
# The nameservice name given to several namenode_url entries: hdfs-native fails over among them
# as among the NameNodes of a configured nameservice.
GIVEN_NAMESERVICE = 'datalake-notebooks-given'
STANDBY_EXCEPTIONS = ('StandbyException', 'ObserverRetryOnActiveException')
# Hadoop's default of 15 attempts makes a dead NameNode cost hdfs-native about three minutes;
# 3 attempts fail in about 7 s and still ride out a standby answering first. The site files'
# own value, where they set one, is kept.
FAILOVER_ATTEMPTS_KEY = 'dfs.client.failover.max.attempts'
DEFAULT_FAILOVER_ATTEMPTS = '3'
# hdfs-native 0.14.7 sometimes panics while it fails over in the middle of a batch ("there is no
# reactor running", proxy.rs): the client is then rebuilt and the calls it dropped sent again,
# at most this many times in one run.
MAX_CLIENT_REBUILDS = 5
# The answer of a call that a stopped batch did not send.
_NOT_SENT = object()

# hdfs-native's text for a remote exception: RPCError("org.apache.hadoop...Class", "message\n\tat ...")
_RPC_ERROR = re.compile(r'^RPCError\("(?P<cls>[\w.$]+)", "(?P<message>.*)"\)$', re.S)
# The Java classes hdfs-native turns into Python's own exceptions.
_PYTHON_EXCEPTIONS = {FileExistsError: 'FileAlreadyExistsException', FileNotFoundError: 'FileNotFoundException'}


# ---------------------------------------------------------------------------------------------
# Pure helpers


def first_line(text):
    """The NameNode's message without the Java stack trace that follows it."""
    text = (text or '').replace('\\n', '\n').replace('\\t', '\t').replace('\\"', '"')
    lines = [line for line in text.split('\n') if line.strip() and not line.startswith('\tat ')]
    return lines[0].strip() if lines else ''


def parse_error(exc):
    """(short Java exception name or None, message) of an exception raised by hdfs-native.

    A remote exception arrives as FileExistsError / FileNotFoundError (the NameNode's message and
    stack trace) or as RuntimeError('RPCError("java.Class", "message...")'); a failed connection as
    a plain OSError ("Connection refused (os error 111)").
    """
    for kind, name in _PYTHON_EXCEPTIONS.items():
        if isinstance(exc, kind):
            return name, first_line(str(exc))
    text = str(exc)
    match = _RPC_ERROR.match(text.strip())
    if match:
        return match.group('cls').rsplit('.', 1)[-1].split('$')[-1], first_line(match.group('message'))
    if text.startswith('GSSAPIError('):
        # GSSAPIError(GssMajorCodes { ..., routine_error: "GSS_S_NO_CRED", ... }, minor, "words"): the words.
        said = re.findall(r'"([^"]*)"', text)
        return 'GSSAPIError', ('Kerberos (GSSAPI) authentication failed: %s. Give kerberos_keytab and '
                               'kerberos_principal, or run with a ticket cache that holds a valid ticket.'
                               % (said[-1] if said else first_line(text)))
    return None, first_line(text) or exc.__class__.__name__


def is_panic(exc):
    """A Rust panic inside hdfs-native (pyo3's PanicException, a BaseException)."""
    return type(exc).__name__ == 'PanicException'


class ClientPanic(Exception):
    """hdfs-native panicked during a call: its client is rebuilt and the call sent again."""


class ClientSilent(ClientPanic):
    """A call got no answer within twice the timeout: the client is rebuilt and the call sent again, once."""


def is_standby(exception, message):
    if exception in STANDBY_EXCEPTIONS:
        return True
    return bool(message) and 'is not supported in state standby' in message


def is_safemode(exception, message):
    """SafeModeException, or the RetriableException an HA NameNode wraps it in."""
    if exception == 'SafeModeException':
        return True
    return exception in ('RetriableException', None) and 'safe mode' in (message or '').lower()


def is_connection_failure(exception, message):
    """No NameNode answer at all: nothing further can succeed."""
    if exception is not None:
        return False
    lowered = message.lower()
    return any(marker in lowered for marker in (
        'connection refused', 'os error', 'timed out', 'could not resolve', 'no namenode hosts',
        'no host for name service', 'connection reset', 'broken pipe'))


def rpc_address(url, label='namenode_url'):
    """'host:port' of an hdfs://host[:port] URL; ValueError naming `label` for anything else.

    A URL with user information is not quoted back: it may hold a password.
    """
    text = url.strip() if isinstance(url, str) else ''
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ValueError('%s is not a valid URL (%s); give hdfs://HOST:PORT' % (label, exc))
    if '@' in parts.netloc:
        raise ValueError('%s has user information (user@ or user:password@); give hdfs://HOST:PORT '
                         'and the HDFS user as hdfs_user' % label)
    if parts.scheme != 'hdfs' or not parts.hostname:
        raise ValueError('%s %r is not a NameNode RPC address: with backend=rpc give hdfs://HOST:PORT '
                         '(dfs.namenode.rpc-address, usually port %d)' % (label, url, DEFAULT_RPC_PORT))
    if parts.path not in ('', '/') or parts.query or parts.fragment:
        raise ValueError('%s %r has a path, query or fragment; give hdfs://HOST:PORT alone' % (label, url))
    host = parts.hostname
    if ':' in host:
        host = '[%s]' % host
    return '%s:%d' % (host, port or DEFAULT_RPC_PORT)


def client_target(urls=None, core_site=None, conf_dir=None):
    """(url, config, shown) for hdfs-native: the URL to open, extra configuration, what to report.

    Several `urls` become one nameservice of those NameNodes, so that hdfs-native skips a standby
    and fails over as within a configured HA nameservice. Without `urls`, fs.defaultFS of
    `core_site` ({name: value}) is the file system, the nameservice of it (if any) being resolved
    by hdfs-native from the site files of `conf_dir`, as Hadoop's client does. Raises ValueError.
    """
    if urls:
        addresses = []
        for index, url in enumerate(urls):
            addresses.append(rpc_address(url, 'namenode_url #%d' % (index + 1)))
        if len(addresses) == 1:
            return 'hdfs://' + addresses[0], {}, 'hdfs://' + addresses[0]
        names = ['nn%d' % index for index in range(len(addresses))]
        config = {'dfs.nameservices': GIVEN_NAMESERVICE,
                  'dfs.ha.namenodes.%s' % GIVEN_NAMESERVICE: ','.join(names)}
        for name, address in zip(names, addresses):
            config['dfs.namenode.rpc-address.%s.%s' % (GIVEN_NAMESERVICE, name)] = address
        return 'hdfs://' + GIVEN_NAMESERVICE, config, ','.join('hdfs://' + item for item in addresses)
    value = ((core_site or {}).get('fs.defaultFS') or (core_site or {}).get('fs.default.name') or '').strip()
    host, port = default_fs_host(core_site)
    if not value.startswith(('hdfs://', 'viewfs://')) or host is None:
        where = ' in %s' % os.path.join(conf_dir, 'core-site.xml') if conf_dir else ''
        raise ValueError('fs.defaultFS%s is %s, not an hdfs:// file system; give namenode_url as '
                         'hdfs://HOST:PORT' % (where, repr(value) if value else 'not set'))
    scheme = value.split(':', 1)[0]
    url = '%s://%s%s' % (scheme, host, ':%d' % port if port else '')
    return url, {}, url


def status_from(entry):
    """(name, FileStatus) of an hdfs-native FileStatus from a listing."""
    name = entry.path.rstrip('/').rsplit('/', 1)[-1]
    kind = 'DIRECTORY' if entry.isdir else 'FILE'
    return name, FileStatus(kind, entry.owner, entry.group, entry.permission & 0o1777, None)


# ---------------------------------------------------------------------------------------------
# The backend


class RpcHdfsBackend(HdfsBackend):
    """HDFS through the NameNode RPC protocol (hdfs-native's blocking client, on threads).

    Under simple authentication `user` is the HDFS user the NameNode sees (hdfs-native reads it
    from HADOOP_USER_NAME, which is set for this process). With Kerberos (`kerberos=True`) the
    ticket decides: hdfs-native's GSSAPI takes it from the cache named by KRB5CCNAME, set to
    `ccache` (the module's private one) when given. Writes of a batch go out `workers` at
    a time over one multiplexed connection; `requests` counts the calls the backend makes.

    The blocking client, not hdfs-native's asyncio one: the asyncio client's threads wake Python
    coroutines, which needs the GIL, and one can still be waking a coroutine that has already
    finished. Freeing that client then deadlocks (its runtime waits for the thread, which waits for
    the GIL: seen about one run in ten at 1,500 homes), and a process that exits meanwhile aborts.
    The blocking client's threads never call into Python, and it lets go of the GIL while it waits,
    so `workers` threads keep as many calls in flight as the asyncio client did, as fast.
    """

    name = 'rpc'

    def __init__(self, url, config=None, conf_dir=None, shown=None, user=None, workers=16, timeout=30,
                 safemode_timeout=60, environ=None, kerberos=False, ccache=None, **kwargs):
        super(RpcHdfsBackend, self).__init__(safemode_timeout=safemode_timeout, **kwargs)
        self.url = url
        self.shown = shown or url
        self.user = None if kerberos else user
        self.kerberos = kerberos
        self.ccache = ccache
        self.workers = max(1, int(workers))
        self.config = dict(config or {})
        self.config.setdefault(FAILOVER_ATTEMPTS_KEY, DEFAULT_FAILOVER_ATTEMPTS)
        # None: keep what the site files say.
        self.config = dict((key, value) for key, value in self.config.items() if value is not None)
        # Hadoop's key, in milliseconds: how long to wait for an answer before failing over.
        self.config.setdefault('dfs.client.socket-timeout', str(int(timeout * 1000)))
        self.timeout = timeout
        self.conf_dir = conf_dir
        self._environ = os.environ if environ is None else environ
        self._client = None
        self.client_rebuilds = 0
        self._resent_after_silence = False
        self._last_answer = time.monotonic()

    @property
    def identity(self):
        return self.user

    @property
    def active_namenode(self):
        return self.shown

    def _open(self):
        # The module acts as the HDFS superuser itself: an inherited HADOOP_PROXY_USER would
        # make hdfs-native impersonate someone else.
        self._environ.pop('HADOOP_PROXY_USER', None)
        if self.kerberos:
            self._environ.pop('HADOOP_USER_NAME', None)
        if self.ccache:
            self._environ['KRB5CCNAME'] = self.ccache
        if self.user:
            self._environ['HADOOP_USER_NAME'] = self.user
        try:
            return hdfs_native.Client(self.url, self.config, self.conf_dir)
        except Exception as exc:  # hdfs-native raises its own types for a bad configuration
            _exception, message = parse_error(exc)
            raise FatalHdfsError('Cannot open the HDFS client for %s: %s' % (self.shown, message))

    def _get_client(self):
        if self._client is None:
            self._client = self._open()
        return self._client

    def _rebuild_client(self, op, paths, panic):
        if self.client_rebuilds >= MAX_CLIENT_REBUILDS:
            raise FatalHdfsError('The HDFS client (hdfs-native) failed %d times during this run, the last time '
                                 'in %s %s: %s' % (self.client_rebuilds + 1, op, paths[0], panic), op=op, path=paths[0])
        self.client_rebuilds += 1
        if isinstance(panic, ClientSilent):
            self._resent_after_silence = True
        self._client = None

    def _error(self, exc, op, path):
        exception, message = parse_error(exc)
        if is_connection_failure(exception, message):
            return FatalHdfsError('No NameNode answered %s %s: %s: %s' % (op, path, self.shown, message),
                                  op=op, path=path)
        if is_standby(exception, message):
            return FatalHdfsError('No active NameNode answered %s %s: %s: standby' % (op, path, self.shown),
                                  op=op, path=path, exception=exception)
        if exception in ('AccessControlException', 'AuthorizationException') and op == 'LISTSTATUS':
            return FatalHdfsError('%s %s: %s' % (op, path, message), op=op, path=path, exception=exception)
        if exception in ('SaslException', None) and 'sasl' in message.lower():
            return FatalHdfsError('%s: authentication failed: %s' % (self.shown, message), op=op, path=path)
        if is_safemode(exception, message):
            return SafeModeError(message, op=op, path=path, exception=exception)
        return HdfsError(message, op=op, path=path, exception=exception)

    def _call(self, op, path, call, write=False):
        """call(), counted; a write the NameNode refuses in safe mode waits and is sent again."""
        while True:
            self.count_request()
            try:
                return call()
            except Exception as exc:  # hdfs-native raises OSError, RuntimeError and its own types
                error = self._error(exc, op, path)
            except BaseException as exc:
                if not is_panic(exc):
                    raise
                raise ClientPanic(first_line(str(exc)) or 'panic')
            if isinstance(error, SafeModeError) and write:
                self.wait_for_safemode(error)
                # Waiting is not silence.
                self._last_answer = time.monotonic()
                continue
            raise error

    def list_dir(self, path):
        # The iterator hands over whole pages of the listing.
        answer = self._batch([path], 'LISTSTATUS', lambda client, path: list(client.list_status(path, False)),
                             results=True)[path]
        if isinstance(answer, HdfsError):
            if answer.exception == 'FileNotFoundException':
                return None
            raise answer
        statuses = dict(status_from(entry) for entry in answer)
        # A listing of a file is the file itself.
        if len(answer) == 1 and not answer[0].isdir and answer[0].path.rstrip('/') == path:
            raise FatalHdfsError('%s is a file, not a directory' % path, op='LISTSTATUS', path=path)
        return statuses

    def count_children(self, paths):
        def one(client, path):
            summary = client.get_content_summary(path)
            return summary.directory_count - 1 + summary.file_count
        return self._batch(paths, 'GETCONTENTSUMMARY', one, results=True)

    def mkdirs(self, paths, mode):
        return self._batch(paths, 'MKDIRS', lambda client, path: client.mkdirs(path, mode, True), write=True)

    def set_owner(self, entries):
        wanted = dict((path, (owner, group)) for path, owner, group in entries)

        def one(client, path):
            owner, group = wanted[path]
            client.set_owner(path, owner, group)
        return self._batch(list(wanted), 'SETOWNER', one, write=True)

    def set_permission(self, paths, mode):
        return self._batch(paths, 'SETPERMISSION', lambda client, path: client.set_permission(path, mode),
                           write=True)

    def delete(self, paths, recursive):
        def one(client, path):
            if client.delete(path, recursive):
                return
            # False: nothing was there to remove, which is what a call sent again after a client
            # rebuild finds when the first one went through.
            try:
                client.get_file_info(path)
            except FileNotFoundError:
                return
            raise HdfsError('delete answered false (nothing was removed)', op='DELETE', path=path)
        return self._batch(paths, 'DELETE', one, write=True)

    def _batch(self, paths, op, work, write=False, results=False):
        """Run work(client, path) for every path, `workers` calls in flight; {path: HdfsError} (or results).

        A FatalHdfsError stops the batch: calls not yet sent are dropped and it is raised. The calls
        a panic of hdfs-native dropped, or that got no answer, are sent again with a new client.
        """
        outcome = {}
        todo = list(paths)
        while todo:
            client = self._get_client()
            todo, failure = self._send(todo, op, lambda path: work(client, path), write, results, outcome)
            if todo:
                self._rebuild_client(op, todo, failure)
        return outcome

    def _send(self, paths, op, work, write, results, outcome):
        """One round of a batch: ([paths to send again], why) after a panic or a silence, else ([], None).

        The threads are daemons: a call hdfs-native never answers is left behind rather than
        waited for, at the end of the run as well.
        """
        pending = queue.Queue()
        for path in paths:
            pending.put(path)
        answers = queue.Queue()
        stop = threading.Event()

        def worker():
            while True:
                try:
                    path = pending.get_nowait()
                except queue.Empty:
                    return
                if stop.is_set():
                    answers.put((path, _NOT_SENT))
                    continue
                try:
                    answers.put((path, self._call(op, path, lambda: work(path), write=write)))
                except BaseException as exc:  # handed over to the batch as it is
                    answers.put((path, exc))

        for dummy in range(min(self.workers, len(paths))):
            threading.Thread(target=worker, name='hdfs-rpc', daemon=True).start()
        silence = self.timeout * 2
        self._last_answer = time.monotonic()
        unanswered = set(paths)
        panicked, raised = [], []
        last_panic = None
        while unanswered:
            try:
                path, answer = answers.get(timeout=min(silence, 1.0))
            except queue.Empty:
                if time.monotonic() - self._last_answer < silence:
                    continue
                stop.set()
                if raised or self._resent_after_silence:
                    break
                return [path for path in paths if path in unanswered], ClientSilent(
                    'no answer within %g seconds' % silence)
            self._last_answer = time.monotonic()
            unanswered.discard(path)
            if isinstance(answer, ClientPanic):
                panicked.append(path)
                last_panic = answer
            elif isinstance(answer, HdfsError) and not isinstance(answer, FatalHdfsError):
                outcome[path] = answer
            elif isinstance(answer, BaseException):
                stop.set()
                raised.append(answer)
            elif answer is not _NOT_SENT and results:
                outcome[path] = answer
        if raised:
            # A FatalHdfsError first; anything else (an interrupt) as it is.
            raise next((error for error in raised if isinstance(error, FatalHdfsError)), raised[0])
        if unanswered:
            first = next(path for path in paths if path in unanswered)
            raise FatalHdfsError('No answer to %s %s from %s within %g seconds (twice the timeout), twice in '
                                 'this run; the run stopped there' % (op, first, self.shown, silence),
                                 op=op, path=first)
        if panicked:
            again = set(panicked)
            return [path for path in paths if path in again], last_panic
        return [], None

    def close(self):
        self._client = None


def make_target(urls=None, conf_dir=None, environ=None):
    """(url, config, conf_dir, shown) for RpcHdfsBackend from namenode_url or the node's site files.

    Raises HadoopSiteError (no configuration) or ValueError (a bad URL, fs.defaultFS not HDFS).
    """
    if urls:
        url, config, shown = client_target(urls)
        return url, config, conf_dir, shown
    directory = find_conf_dir(conf_dir, environ)
    core_site = read_site_xml(os.path.join(directory, 'core-site.xml'))
    hdfs_site = read_site_xml(os.path.join(directory, 'hdfs-site.xml'))
    url, config, shown = client_target(core_site=core_site, conf_dir=directory)
    if FAILOVER_ATTEMPTS_KEY in hdfs_site or FAILOVER_ATTEMPTS_KEY in core_site:
        config[FAILOVER_ATTEMPTS_KEY] = None
    return url, config, directory, shown
