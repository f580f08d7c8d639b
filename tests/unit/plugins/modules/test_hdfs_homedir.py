"""hdfs_homedir through main(): what it refuses before any NameNode request (the NameNode's own
answers are tested against a real NameNode in tests/integration)."""

import pytest

from ansible_collections.datalake.notebooks.plugins.modules import hdfs_homedir


@pytest.fixture
def run(run_module):
    def runner(args, check=False):
        return run_module(hdfs_homedir, dict({'namenode_url': ['http://127.0.0.1:9']}, **args), check=check)
    return runner


def test_invalid_names_are_returned_as_invalid_users(run):
    result = run({'users': ['ok', 'x/y', '${user.name}']})
    assert result['failed'] is True
    assert [entry['name'] for entry in result['invalid_users']] == ['x/y', '${user.name}']
    assert "Invalid user name(s) in users: 'x/y'" in result['msg']


@pytest.mark.parametrize('mode, message', [
    # YAML's unquoted 750: decimal, not the octal mode it looks like.
    (750, "quote it: mode: '0750'"),
    ('0o1750x', 'mode'),
])
def test_a_bad_mode_is_refused_naming_it(run, mode, message):
    result = run({'users': ['ok'], 'mode': mode})
    assert result['failed'] is True and message in result['msg']


def test_workers_below_one_are_refused(run):
    result = run({'users': ['ok'], 'workers': 0})
    assert result['failed'] is True and result['msg'] == 'workers must be at least 1, got 0'


def test_the_rpc_backend_refuses_a_webhdfs_url(run):
    result = run({'users': ['ok'], 'backend': 'rpc', 'namenode_url': ['http://nn:9870']})
    assert result['failed'] is True
    assert "is not a NameNode RPC address: with backend=rpc give hdfs://HOST:PORT" in result['msg']


def test_a_keytab_without_kerberos_is_refused(run, tmp_path):
    keytab = tmp_path / 'hdfs.keytab'
    keytab.write_bytes(b'\x05\x02')
    result = run({'users': ['ok'], 'kerberos_principal': 'hdfs/nn@EXAMPLE.COM', 'kerberos_keytab': str(keytab)})
    assert result['failed'] is True and result['msg'] == 'kerberos_keytab and kerberos_principal need kerberos=true'


def test_a_missing_kinit_is_named(run, tmp_path):
    keytab = tmp_path / 'hdfs.keytab'
    keytab.write_bytes(b'\x05\x02')
    result = run({'users': ['ok'], 'kerberos': True, 'kerberos_principal': 'hdfs/nn@EXAMPLE.COM',
                  'kerberos_keytab': str(keytab), 'kinit_bin': 'no-such-kinit'})
    assert result['failed'] is True and result['msg'].startswith('kinit_bin no-such-kinit was not found on this node')
