"""The RPC backend's pure helpers: hdfs-native's errors, NameNode addresses, the client's target."""


import threading
import time

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _hdfs_rpc
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import FatalHdfsError
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_rpc import (
    GIVEN_NAMESERVICE,
    client_target,
    first_line,
    is_connection_failure,
    is_safemode,
    is_standby,
    parse_error,
    rpc_address,
)

TRACE = '\n\tat org.apache.hadoop.hdfs.server.namenode.FSDirMkdirOp.mkdirs(FSDirMkdirOp.java:55)\n\tat x(y)\n'


@pytest.mark.parametrize('exc, expected', [
    (FileExistsError('Path is not a directory: /user/eve' + TRACE),
     ('FileAlreadyExistsException', 'Path is not a directory: /user/eve')),
    (FileNotFoundError('/nope'), ('FileNotFoundException', '/nope')),
    (RuntimeError('RPCError("org.apache.hadoop.security.AccessControlException", "Permission denied: '
                  'user=bob, access=WRITE, inode=\\"/probe\\":hdfs:supergroup:drwxr-xr-x\\n\\tat org.x(F.java:1)\\n")'),
     ('AccessControlException', 'Permission denied: user=bob, access=WRITE, inode="/probe":hdfs:supergroup:drwxr-xr-x')),
    (RuntimeError('RPCError("org.apache.hadoop.hdfs.server.namenode.SafeModeException", "Cannot create directory '
                  '/u/a. Name node is in safe mode.\\nIt was turned on manually.\\n\\tat a.b(C.java:1)")'),
     ('SafeModeException', 'Cannot create directory /u/a. Name node is in safe mode.')),
    (RuntimeError('RPCError("org.apache.hadoop.ipc.StandbyException", "Operation category READ is not supported '
                  'in state standby")'),
     ('StandbyException', 'Operation category READ is not supported in state standby')),
    (OSError('Connection refused (os error 111)'), (None, 'Connection refused (os error 111)')),
    (RuntimeError(''), (None, 'RuntimeError')),
    # hdfs-native 0.14.7 without a ticket, as seen on the secure rig.
    (RuntimeError('GSSAPIError(GssMajorCodes { raw: "0x00070000", calling_error: "none", routine_error: '
                  '"GSS_S_NO_CRED", supplementary_info: "0x0000" }, 2529639053, "No credentials were supplied: '
                  'No Kerberos credentials available (default cache: FILE:/tmp/cc)")'),
     ('GSSAPIError', 'Kerberos (GSSAPI) authentication failed: No credentials were supplied: No Kerberos '
                     'credentials available (default cache: FILE:/tmp/cc). Give kerberos_keytab and '
                     'kerberos_principal, or run with a ticket cache that holds a valid ticket.')),
])
def test_parse_error(exc, expected):
    assert parse_error(exc) == expected


def test_first_line_drops_the_stack_trace():
    assert first_line('message' + TRACE) == 'message'
    assert first_line('') == ''


@pytest.mark.parametrize('exception, message, standby, safemode, connection', [
    ('StandbyException', 'Operation category READ is not supported in state standby', True, False, False),
    ('RetriableException', 'Name node is in safe mode.', False, True, False),
    ('SafeModeException', 'whatever', False, True, False),
    (None, 'Connection refused (os error 111)', False, False, True),
    ('AccessControlException', 'Permission denied: connection refused', False, False, False),
    ('FileAlreadyExistsException', 'Path is not a directory: /u/a', False, False, False),
])
def test_classification(exception, message, standby, safemode, connection):
    assert is_standby(exception, message) is standby
    assert is_safemode(exception, message) is safemode
    assert is_connection_failure(exception, message) is connection


@pytest.mark.parametrize('url, address', [
    ('hdfs://nn1.example.com:8020', 'nn1.example.com:8020'),
    ('hdfs://nn1.example.com', 'nn1.example.com:8020'),
    ('hdfs://nn1:9000/', 'nn1:9000'),
    (' hdfs://127.0.0.1:42023 ', '127.0.0.1:42023'),
    ('hdfs://[::1]:8020', '[::1]:8020'),
])
def test_rpc_address(url, address):
    assert rpc_address(url) == address


@pytest.mark.parametrize('url, message', [
    ('http://nn1:9870', "namenode_url 'http://nn1:9870' is not a NameNode RPC address"),
    ('nn1:8020', "namenode_url 'nn1:8020' is not a NameNode RPC address"),
    ('hdfs://nn1:8020/user', 'has a path, query or fragment'),
    ('hdfs://nn1:8020?x=1', 'has a path, query or fragment'),
    ('hdfs://nn1:99999', 'namenode_url is not a valid URL'),
    (None, "namenode_url None is not a NameNode RPC address"),
])
def test_rpc_address_refused(url, message):
    with pytest.raises(ValueError) as info:
        rpc_address(url)
    assert message in str(info.value)


def test_rpc_address_never_quotes_a_password():
    with pytest.raises(ValueError) as info:
        rpc_address('hdfs://hdfs:s3cret@nn1:8020', 'namenode_url #2')
    assert 's3cret' not in str(info.value)
    assert str(info.value).startswith('namenode_url #2 has user information')


def test_one_given_url_is_opened_as_it_is():
    assert client_target(['hdfs://nn1:8020']) == ('hdfs://nn1:8020', {}, 'hdfs://nn1:8020')


def test_several_given_urls_become_one_nameservice():
    url, config, shown = client_target(['hdfs://nn1:8020', 'hdfs://nn2'])
    assert url == 'hdfs://' + GIVEN_NAMESERVICE
    assert config == {
        'dfs.nameservices': GIVEN_NAMESERVICE,
        'dfs.ha.namenodes.%s' % GIVEN_NAMESERVICE: 'nn0,nn1',
        'dfs.namenode.rpc-address.%s.nn0' % GIVEN_NAMESERVICE: 'nn1:8020',
        'dfs.namenode.rpc-address.%s.nn1' % GIVEN_NAMESERVICE: 'nn2:8020',
    }
    assert shown == 'hdfs://nn1:8020,hdfs://nn2:8020'


def test_a_bad_entry_among_several_is_named_by_position():
    with pytest.raises(ValueError, match=r"^namenode_url #2 'http://nn2:9870' is not"):
        client_target(['hdfs://nn1:8020', 'http://nn2:9870'])


@pytest.mark.parametrize('core_site, url', [
    ({'fs.defaultFS': 'hdfs://mycluster'}, 'hdfs://mycluster'),
    ({'fs.defaultFS': 'hdfs://nn1:8020/'}, 'hdfs://nn1:8020'),
    ({'fs.default.name': 'hdfs://old:9000'}, 'hdfs://old:9000'),
    ({'fs.defaultFS': 'viewfs://cluster'}, 'viewfs://cluster'),
])
def test_target_from_fs_default_fs(core_site, url):
    assert client_target(core_site=core_site) == (url, {}, url)


@pytest.mark.parametrize('core_site, shown', [({}, 'not set'), ({'fs.defaultFS': 'file:///'}, "'file:///'"),
                                              ({'fs.defaultFS': 's3a://bucket'}, "'s3a://bucket'")])
def test_fs_default_fs_that_is_not_hdfs_is_refused(core_site, shown):
    with pytest.raises(ValueError) as info:
        client_target(core_site=core_site, conf_dir='/etc/hadoop/conf')
    assert str(info.value) == ('fs.defaultFS in /etc/hadoop/conf/core-site.xml is %s, not an hdfs:// file system; '
                               'give namenode_url as hdfs://HOST:PORT' % shown)


class PanicException(BaseException):
    """What pyo3 raises for a Rust panic: a BaseException, not an Exception."""


class FlakyClient:
    """A stand-in for hdfs-native's Client whose first client panics on the `panic_on`-th call."""

    made = []

    def __init__(self, url, config, conf_dir, panic_on=3):
        self.panic_on = panic_on if not FlakyClient.made else None
        self.calls = []
        self.lock = threading.Lock()
        FlakyClient.made.append(self)

    def mkdirs(self, path, mode, parents):
        # The backend calls from several threads at once.
        with self.lock:
            self.calls.append(path)
            number = len(self.calls)
        if self.panic_on is not None and number >= self.panic_on:
            raise PanicException('there is no reactor running, must be called from the context of a Tokio 1.x runtime')


@pytest.fixture
def flaky(monkeypatch):
    FlakyClient.made = []
    monkeypatch.setattr(_hdfs_rpc, 'hdfs_native', type('hdfs_native', (), {'Client': FlakyClient}))
    backend = _hdfs_rpc.RpcHdfsBackend('hdfs://nn:8020', environ={}, workers=2)
    yield backend
    backend.close()


def test_calls_a_panic_dropped_are_sent_again_with_a_new_client(flaky):
    paths = ['/user/u%d' % number for number in range(10)]
    assert flaky.mkdirs(paths, 0o750) == {}
    first, second = FlakyClient.made
    # The first client answered two calls, then panicked on every other one it was given.
    answered = first.calls[:2]
    assert sorted(answered + second.calls) == sorted(paths) and not set(answered) & set(second.calls)
    assert flaky.client_rebuilds == 1


def test_a_client_that_keeps_panicking_stops_the_run_with_a_clear_error(flaky, monkeypatch):
    monkeypatch.setattr(FlakyClient, 'made', [])
    original = FlakyClient.__init__

    def always(self, *args):
        original(self, *args)
        self.panic_on = 1
    monkeypatch.setattr(FlakyClient, '__init__', always)
    with pytest.raises(FatalHdfsError) as raised:
        flaky.mkdirs(['/user/a', '/user/b'], 0o750)
    assert raised.value.message.startswith('The HDFS client (hdfs-native) failed %d times during this run, the last '
                                           'time in MKDIRS /user/' % (_hdfs_rpc.MAX_CLIENT_REBUILDS + 1))
    assert 'no reactor running' in raised.value.message


class Stop(BaseException):
    pass


def test_other_base_exceptions_are_not_taken_for_a_panic(flaky, monkeypatch):
    def interrupted(self, path, mode, parents):
        raise Stop()
    monkeypatch.setattr(FlakyClient, 'mkdirs', interrupted)
    with pytest.raises(Stop):
        flaky.mkdirs(['/user/a'], 0o750)


def silent_first_client(monkeypatch, clients_silent=1):
    """Clients whose mkdirs never answers, for the first `clients_silent` clients made."""
    def mkdirs(self, path, mode, parents):
        self.calls.append(path)
        if len(FlakyClient.made) <= clients_silent and self is FlakyClient.made[-1]:
            time.sleep(3600)
    monkeypatch.setattr(FlakyClient, 'mkdirs', mkdirs)


def test_calls_left_unanswered_are_sent_again_once_with_a_new_client(flaky, monkeypatch):
    silent_first_client(monkeypatch)
    flaky.timeout = 0.05
    assert flaky.mkdirs(['/user/a', '/user/b'], 0o750) == {}
    assert len(FlakyClient.made) == 2 and sorted(FlakyClient.made[1].calls) == ['/user/a', '/user/b']


def test_a_second_silence_stops_the_run(flaky, monkeypatch):
    silent_first_client(monkeypatch, clients_silent=2)
    flaky.timeout = 0.05
    with pytest.raises(FatalHdfsError) as raised:
        flaky.mkdirs(['/user/a'], 0o750)
    assert raised.value.message == ('No answer to MKDIRS /user/a from hdfs://nn:8020 within 0.1 seconds (twice the '
                                    'timeout), twice in this run; the run stopped there')
