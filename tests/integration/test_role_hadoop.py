"""The role against the real Hadoop rig: proxy-user settings take effect without a NameNode restart.

Before the role, the NameNode refuses to let `livy` act as a notebook user; after it (hadoop_config
plus the refresh handler) it allows exactly the notebook users, never `hdfs`, over WebHDFS and RPC,
and Hadoop's own parser reads what the role wrote. A second run changes nothing and refreshes nothing.
"""

import os
import shutil
import subprocess

import pytest
import requests

from playbook import REPO_ROOT, local_play, run_playbook

LIVY_TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
USERS = ['diego', 'shirley']
# The handlers become hdfs/yarn, who cannot run the test suite's own Python; the system one is
# what a Debian master node has (tests/stages/integration installs its requests package).
ENV = {'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3'}


def namenode_start_time(hadoop):
    """JVM start time of the NameNode, from its own JMX servlet: changes only with a restart."""
    base = hadoop.webhdfs_url.split('/webhdfs/')[0]
    beans = requests.get(base + '/jmx', params={'qry': 'java.lang:type=Runtime'}, timeout=30).json()['beans']
    return beans[0]['StartTime']


@pytest.fixture
def rig_conf(hadoop):
    """The rig's core-site.xml as it was, loaded by the NameNode; restored (and reloaded) afterwards."""
    def refresh():
        hadoop.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', check=True)

    with hadoop.core_site_restored(after=refresh):
        refresh()
        yield hadoop


def role_vars(hadoop, conf_dir):
    env = hadoop.client_env()
    return {
        'livy_impersonation_livy_conf_path': str(conf_dir / 'livy.conf'),
        'livy_impersonation_core_site_path': hadoop.core_site,
        'livy_impersonation_users': USERS,
        # WebHDFS and RPC calls in this test come from the loopback address.
        'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_backup': False,
        'livy_impersonation_refresh_yarn': hadoop.yarn_enabled,
        'livy_impersonation_hdfs_bin': os.path.join(hadoop.home, 'bin', 'hdfs'),
        'livy_impersonation_yarn_bin': os.path.join(hadoop.home, 'bin', 'yarn'),
        'livy_impersonation_hdfs_namenode_url': [hadoop.webhdfs_url.split('/webhdfs/')[0]],
        'livy_impersonation_hadoop_environment': {
            key: env[key] for key in ('HADOOP_HOME', 'HADOOP_CONF_DIR', 'JAVA_HOME')},
        # The rig's service accounts have no login shell.
        'ansible_become_method': 'su',
        'ansible_become_flags': '-s /bin/sh',
    }


def role_play():
    return local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
        'name': 'datalake.notebooks.livy_impersonation'}}])


def impersonation_status(hadoop, doas):
    status, body = hadoop.webhdfs('GET', '/user', 'GETFILESTATUS', user='livy', doas=doas)
    return status, body


def test_role_makes_impersonation_work_without_restart(rig_conf, tmp_path):
    hadoop = rig_conf
    shutil.copy(LIVY_TEMPLATE, tmp_path / 'livy.conf')
    status, body = impersonation_status(hadoop, 'shirley')
    assert status == 403 and 'not allowed to impersonate' in str(body), (status, body)
    started = namenode_start_time(hadoop)

    run = run_playbook(role_play(), extra_vars=role_vars(hadoop, tmp_path), env=ENV)
    assert run.rc == 0, run.stdout[-5000:] + run.stderr + hadoop.log_tail()
    assert run.task('Refresh HDFS proxy-user settings')['changed'] is True

    for user in USERS:
        status, body = impersonation_status(hadoop, user)
        assert status == 200, (user, status, body)
    for user in ('hdfs', 'yarn', 'root'):
        status, body = impersonation_status(hadoop, user)
        assert status == 403 and 'not allowed to impersonate' in str(body), (user, status, body)
    assert namenode_start_time(hadoop) == started, 'the NameNode was restarted'

    # Hadoop's own configuration parser reads what hadoop_config wrote.
    for key, value in (('hadoop.proxyuser.livy.hosts', '127.0.0.1'),
                       ('hadoop.proxyuser.livy.users', 'diego,shirley')):
        proc = hadoop.hdfs('getconf', '-confKey', key, check=True)
        assert proc.stdout.strip() == value

    # Over RPC as Livy does it: livy authenticates, shirley is the effective user.
    env = hadoop.client_env('livy')
    env['HADOOP_PROXY_USER'] = 'shirley'
    proc = subprocess.run([os.path.join(hadoop.home, 'bin', 'hdfs'), 'dfs', '-touchz', '/user/shirley/from-livy'],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    status, body = hadoop.webhdfs('GET', '/user/shirley/from-livy', 'GETFILESTATUS')
    assert status == 200 and body['FileStatus']['owner'] == 'shirley', body

    # Each notebook user's home: owner, mode 750.
    for user in USERS:
        status, body = hadoop.webhdfs('GET', '/user/' + user, 'GETFILESTATUS')
        assert status == 200, body
        assert body['FileStatus']['owner'] == user
        assert body['FileStatus']['permission'] == '750'

    again = run_playbook(role_play(), extra_vars=role_vars(hadoop, tmp_path), env=ENV)
    assert again.rc == 0, again.stdout[-5000:] + again.stderr
    assert again.changed == 0, 'the second run changed something'
    with pytest.raises(KeyError):
        again.task('Refresh HDFS proxy-user settings')


def test_role_with_the_rpc_backend_installs_hdfs_native_in_its_own_virtualenv(rig_conf, tmp_path):
    hadoop = rig_conf
    shutil.copy(LIVY_TEMPLATE, tmp_path / 'livy.conf')
    venv = tmp_path / 'hdfs-rpc'
    base = '/rpc-role-homes'
    variables = dict(role_vars(hadoop, tmp_path), livy_impersonation_hdfs_backend='rpc',
                     livy_impersonation_hdfs_namenode_url=[], livy_impersonation_hdfs_rpc_venv=str(venv),
                     livy_impersonation_hdfs_home_base=base)

    # Check mode first: nothing installed, nothing made, and it says why the homes are not listed.
    check = run_playbook(role_play(), extra_vars=variables, env=ENV, check=True)
    assert check.rc == 0, check.stdout[-5000:] + check.stderr
    assert not venv.exists()
    assert 'hdfs-native is not installed in %s yet' % venv in check.stdout
    assert hadoop.webhdfs('GET', base, 'GETFILESTATUS')[0] == 404

    run = run_playbook(role_play(), extra_vars=variables, env=ENV)
    assert run.rc == 0, run.stdout[-5000:] + run.stderr + hadoop.log_tail()
    homes = run.task('Each notebook user has an HDFS home directory only they can write')
    assert homes['backend'] == 'rpc' and homes['created_users'] == USERS, homes
    # The module ran in the virtualenv, which has the pinned library; the system Python does not.
    version = subprocess.run([str(venv / 'bin' / 'python'), '-c', 'import importlib.metadata as m; '
                              'print(m.version("hdfs-native"))'], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == '0.14.7'
    assert subprocess.run(['/usr/bin/python3', '-c', 'import hdfs_native'], capture_output=True,
                          check=False).returncode != 0
    for user in USERS:
        status, body = hadoop.webhdfs('GET', '%s/%s' % (base, user), 'GETFILESTATUS')
        assert status == 200 and (body['FileStatus']['owner'], body['FileStatus']['permission']) == (user, '750')

    again = run_playbook(role_play(), extra_vars=variables, env=ENV)
    assert again.rc == 0, again.stdout[-5000:] + again.stderr
    assert again.changed == 0, 'the second run changed something'
