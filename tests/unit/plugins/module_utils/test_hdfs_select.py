"""_hdfs_select: the backend and its settings chosen from hdfs_homedir's parameters, without a NameNode."""

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_select import (
    SelectError,
    default_workers,
    select_backend,
)

PARAMS = dict(backend='webhdfs', namenode_url=['https://nn1:9871', 'https://nn2:9871'], hdfs_user='hdfs',
              kerberos=False, validate_certs=True, ca_path=None, timeout=30, workers=16, safemode_timeout=60,
              hadoop_conf_dir=None, hdfs_bin='hdfs')


def run_nothing(argv, environ):
    raise AssertionError('no command is run to choose a backend')


@pytest.mark.parametrize('backend, workers', [('webhdfs', 16), ('cli', 16), ('rpc', 64)])
def test_default_workers(backend, workers):
    assert default_workers(backend) == workers


def test_webhdfs_gets_the_given_namenodes_and_the_ca_path_as_verify():
    backend = select_backend(dict(PARAMS, ca_path='/etc/ssl/nn-ca.pem'), run_nothing)
    assert backend.name == 'webhdfs' and backend.verify == '/etc/ssl/nn-ca.pem'
    backend.close()


def test_cli_never_runs_more_commands_at_once_than_the_node_has_cpus():
    backend = select_backend(dict(PARAMS, backend='cli', workers=1000), run_nothing)
    assert backend.name == 'cli' and 1 <= backend.workers <= 64


def test_rpc_refuses_a_webhdfs_url_naming_it():
    with pytest.raises(SelectError) as raised:
        select_backend(dict(PARAMS, backend='rpc', namenode_url=['http://nn:9870']), run_nothing)
    assert "namenode_url #1 'http://nn:9870' is not a NameNode RPC address" in raised.value.message


def test_a_conf_dir_without_hdfs_site_is_named(tmp_path):
    with pytest.raises(SelectError) as raised:
        select_backend(dict(PARAMS, namenode_url=None, hadoop_conf_dir=str(tmp_path)), run_nothing)
    assert raised.value.message == 'Cannot find the NameNode: no hdfs-site.xml in %s (hadoop_conf_dir)' % tmp_path
