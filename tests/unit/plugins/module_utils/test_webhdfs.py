"""_webhdfs: what the NameNode answers over WebHDFS (JSON), parsed, and its URLs and errors shown without secrets."""

import json

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import FileStatus
from ansible_collections.datalake.notebooks.plugins.module_utils._webhdfs import (
    display_url,
    is_safemode,
    is_standby,
    normalize_namenode_url,
    operation_url,
    parse_liststatus,
    parse_remote_exception,
    refused_message,
    permission_param,
    redact,
    request_failure,
)

LISTSTATUS = json.loads('''
{"FileStatuses":{"FileStatus":[
{"accessTime":0,"blockSize":0,"childrenNum":0,"fileId":16390,"group":"supergroup","length":0,
 "modificationTime":1763895600000,"owner":"alice","pathSuffix":"alice","permission":"750",
 "replication":0,"storagePolicy":0,"type":"DIRECTORY"},
{"accessTime":0,"blockSize":0,"childrenNum":2,"fileId":16391,"group":"hadoop","length":0,
 "modificationTime":1763895600000,"owner":"hdfs","pathSuffix":"tmp","permission":"1777",
 "replication":0,"storagePolicy":0,"type":"DIRECTORY","aclBit":true},
{"accessTime":1763895600000,"blockSize":134217728,"childrenNum":0,"fileId":16392,"group":"supergroup",
 "length":5,"modificationTime":1763895600000,"owner":"hdfs","pathSuffix":"dave","permission":"644",
 "replication":1,"storagePolicy":0,"type":"FILE"}
]}}''')


def test_parse_liststatus():
    assert parse_liststatus(LISTSTATUS) == {
        'alice': FileStatus('DIRECTORY', 'alice', 'supergroup', 0o750, 0),
        'tmp': FileStatus('DIRECTORY', 'hdfs', 'hadoop', 0o1777, 2),
        'dave': FileStatus('FILE', 'hdfs', 'supergroup', 0o644, 0),
    }


def test_parse_liststatus_empty_and_old_namenode_without_children():
    assert parse_liststatus({'FileStatuses': {'FileStatus': []}}) == {}
    entry = {'pathSuffix': 'a', 'type': 'DIRECTORY', 'owner': 'a', 'group': 'g', 'permission': '700'}
    assert parse_liststatus({'FileStatuses': {'FileStatus': [entry]}})['a'].children is None


@pytest.mark.parametrize('document', [{}, {'boolean': True}, None, [], {'FileStatuses': None}])
def test_parse_liststatus_refuses_other_answers(document):
    with pytest.raises(ValueError, match='not a LISTSTATUS answer'):
        parse_liststatus(document)


@pytest.mark.parametrize('status, body, expected', [
    (404, '{"RemoteException":{"exception":"FileNotFoundException","javaClassName":"java.io.FileNotFoundException",'
          '"message":"File does not exist: /user"}}',
     ('FileNotFoundException', 'java.io.FileNotFoundException', 'File does not exist: /user')),
    (403, b'{"RemoteException":{"exception":"StandbyException","javaClassName":"org.apache.hadoop.ipc.StandbyException",'
          b'"message":"Operation category READ is not supported in state standby."}}',
     ('StandbyException', 'org.apache.hadoop.ipc.StandbyException',
      'Operation category READ is not supported in state standby.')),
    (502, '<html><body>Bad gateway</body></html>', (None, None, 'HTTP 502: <html><body>Bad gateway</body></html>')),
    (500, '', (None, None, 'HTTP 500')),
    (401, '{"RemoteException":{}}', (None, None, 'HTTP 401')),
])
def test_parse_remote_exception(status, body, expected):
    assert parse_remote_exception(status, body) == expected


@pytest.mark.parametrize('exception, message, standby', [
    ('StandbyException', 'Operation category READ is not supported in state standby.', True),
    ('RemoteException', 'Operation category WRITE is not supported in state standby. Visit ...', True),
    ('ObserverRetryOnActiveException', 'x', True),
    ('RetriableException', 'NameNode still not started', True),
    ('RetriableException', 'org.apache.hadoop.hdfs.server.namenode.SafeModeException: Cannot create directory '
                           '/user/a. Name node is in safe mode.', False),
    ('AccessControlException', 'Permission denied', False),
])
def test_is_standby(exception, message, standby):
    assert is_standby(exception, message) is standby


@pytest.mark.parametrize('exception, message, safemode', [
    ('SafeModeException', 'Cannot create directory /user/a. Name node is in safe mode.', True),
    ('RetriableException', 'org.apache.hadoop.hdfs.server.namenode.SafeModeException: Cannot set owner '
                           'for /user/a. Name node is in safe mode.', True),
    ('RetriableException', 'NameNode still not started', False),
    ('AccessControlException', 'Permission denied: the safe mode word alone does not count', False),
])
def test_is_safemode(exception, message, safemode):
    assert is_safemode(exception, message) is safemode


@pytest.mark.parametrize('url, clean', [
    ('nn1:9870', 'http://nn1:9870'),
    ('http://nn1:9870/', 'http://nn1:9870'),
    ('https://nn1:9871/webhdfs/v1', 'https://nn1:9871'),
    (' https://nn1:9871/webhdfs/v1/ ', 'https://nn1:9871'),
    ('http://gateway/proxy/nn', 'http://gateway/proxy/nn'),
])
def test_normalize_namenode_url(url, clean):
    assert normalize_namenode_url(url) == clean


@pytest.mark.parametrize('path, url', [
    ('/user/alice', 'http://nn:9870/webhdfs/v1/user/alice'),
    ('/user/jo.doe@EXAMPLE.COM', 'http://nn:9870/webhdfs/v1/user/jo.doe%40EXAMPLE.COM'),
    ('/user/a?b#c%d', 'http://nn:9870/webhdfs/v1/user/a%3Fb%23c%25d'),
    ('/user/émile', 'http://nn:9870/webhdfs/v1/user/%C3%A9mile'),
])
def test_operation_url_encodes_names(path, url):
    assert operation_url('http://nn:9870', path) == url


@pytest.mark.parametrize('mode, param', [(0o750, '750'), (0o1777, '1777'), (0o700, '700'), (0o55, '55')])
def test_permission_param(mode, param):
    assert permission_param(mode) == param


# ---- hdfs dfs (FsShell) output ----------------------------------------------------------------


SECRET = 'HAAEaGRmcwRoZGZzAIoBjxQ2xjuKAY84QkY7AQIUzq5rV3Ah4PfO0vqsW8Tt6Do8lqQSV0VCSERGUyBkZWxlZ2F0aW9uAA'
SPNEGO = 'YIIChgYGKwYBBQUCoIICejCCAnagDTALBgkqhkiG9xIBAgKiggJjBIICX2CCAlsGCSqGSIb3EgECAgEAboICSjCC'


@pytest.mark.parametrize('text, shown', [
    ('Max retries exceeded with url: /webhdfs/v1/user?op=LISTSTATUS&delegation=%s&user.name=hdfs' % SECRET,
     'Max retries exceeded with url: /webhdfs/v1/user?op=LISTSTATUS&delegation=********&user.name=hdfs'),
    ("op=RENEWDELEGATIONTOKEN&token=%s'" % SECRET, "op=RENEWDELEGATIONTOKEN&token=********'"),
    ("{'Authorization': 'Negotiate %s'}" % SPNEGO, "{'Authorization': 'Negotiate ********'}"),
    ('Set-Cookie: hadoop.auth="u=hdfs&p=hdfs&t=simple&e=1&s=%s"; Path=/' % SECRET,
     'Set-Cookie: hadoop.auth=********; Path=/'),
    ('http://ops:%s@nn1:9870/webhdfs/v1/x?op=MKDIRS' % SECRET, 'http://ops:********@nn1:9870/webhdfs/v1/x?op=MKDIRS'),
    # What is not a credential stays as it is.
    ('Basic authentication failed; token renewal expired', 'Basic authentication failed; token renewal expired'),
    ('http://nn1:9870/webhdfs/v1/user?op=LISTSTATUS&user.name=hdfs',
     'http://nn1:9870/webhdfs/v1/user?op=LISTSTATUS&user.name=hdfs'),
])
def test_redact(text, shown):
    assert redact(text) == shown


@pytest.mark.parametrize('url, error', [
    ('http://nn1:9870/webhdfs/v1?delegation=%s' % SECRET, 'has a query string (parameters: delegation)'),
    ('http://nn1:9870/?user.name=hdfs&delegation=%s' % SECRET, '(parameters: delegation, user.name)'),
    ('http://nn1:9870/#%s' % SECRET, 'has a fragment'),
    ('http://nn1:9870/?', 'has a query string:'),
    ('http://ops:%s@nn1:9870/?delegation=x' % SECRET, 'namenode_url http://ops:********@nn1:9870/ has a query'),
])
def test_normalize_namenode_url_refuses_a_query_without_showing_it(url, error):
    with pytest.raises(ValueError) as raised:
        normalize_namenode_url(url)
    assert error in str(raised.value)
    assert 'scheme://host:port' in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize('url, shown', [
    ('http://ops:%s@nn1:9870' % SECRET, 'http://ops:********@nn1:9870'),
    ('https://:%s@nn1:9871/gateway' % SECRET, 'https://:********@nn1:9871/gateway'),
    ('http://ops@nn1:9870', 'http://ops@nn1:9870'),
    ('http://nn1:9870', 'http://nn1:9870'),
])
def test_display_url_hides_a_password(url, shown):
    assert display_url(url) == shown


class SPNEGOExchangeError(Exception):
    """Stands for requests_gssapi's exception of that name (the library is optional)."""


SPNEGOExchangeError.__module__ = 'requests_gssapi.exceptions'


@pytest.mark.parametrize('exc, wanted', [
    (OSError('Could not find a suitable TLS CA certificate bundle, invalid path: /etc/nope.pem'),
     ['cannot read the CA bundle', '/etc/nope.pem', 'ca_path', 'REQUESTS_CA_BUNDLE']),
    (SPNEGOExchangeError('generate_request_header failed: No Kerberos credentials; header Negotiate %s' % SPNEGO),
     ['Kerberos (SPNEGO) authentication failed', 'No Kerberos credentials', 'Negotiate ********', 'kinit']),
    (UnicodeEncodeError('latin-1', 'delegation=%s\u2603' % SECRET, 5, 6, 'ordinal not in range(256)'),
     ['the request failed: UnicodeEncodeError']),
])
def test_request_failure_messages(exc, wanted):
    message = request_failure('https://nn1:9871', exc)
    assert message.startswith('https://nn1:9871: ')
    for part in wanted:
        assert part in message
    assert SECRET not in message and SPNEGO not in message


def test_a_refusal_names_jettys_title_not_its_page():
    page = '<html>\n<head>\n<title>Error 401 Authentication required</title>\n</head><body>...</body></html>'
    kerberos = refused_message('https://nn:9871', 401, page, kerberos=True)
    assert kerberos.startswith('https://nn:9871 refused the request (HTTP 401: Error 401 Authentication required): '
                               'no Kerberos ticket was accepted.')
    assert '<' not in kerberos
    simple = refused_message('http://nn:9870', 401, 'Authentication required', kerberos=False)
    assert 'set kerberos=true with kerberos_keytab and kerberos_principal' in simple
