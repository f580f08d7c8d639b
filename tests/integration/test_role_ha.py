"""The role on an HA pair: two NameNodes sharing edits and two ResourceManagers, failed over by hand.

The HA rig (`hadoop_ha`) is two masters on this machine: master N runs NameNode nnN and
ResourceManager rmN with its own conf dir, so its own core-site.xml. The role runs on both, as
two inventory hosts with the local connection, each writing its own core-site.xml. The tests
prove, against the real daemons:

- dfsadmin refreshes both NameNodes, the standby too (it then refuses a proxied call as a standby,
  no longer as an impersonation), and the ResourceManager refresh reaches the active one, the
  standby taking the settings when it becomes active; after a failover of both, the new active
  ones let Livy impersonate without any refresh in between and without a restart;
- homes are made on the active NameNode, whichever it is, across a failover between two runs,
  with `namenode_url` listing both NameNodes in either order, with the NameNodes read from
  hdfs-site.xml, and through the `hdfs` command;
- a NameNode the HDFS refresh cannot reach fails the handler, named, after the other took the
  settings; with no active ResourceManager the YARN refresh fails within its bound instead of
  Hadoop's 15 minutes.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import socket
import tempfile
import threading
import time

import pytest
import requests
import yaml

from playbook import REPO_ROOT, local_play, run_playbook

LIVY_TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
USERS = ['diego', 'shirley']
MASTERS = ('master1', 'master2')
HDFS_REFRESH = 'Refresh HDFS proxy-user settings'
YARN_REFRESH = 'Refresh YARN proxy-user settings'
# The handlers become hdfs/yarn, who cannot run the test suite's own Python; the system one is
# what a Debian master node has (tests/stages/integration installs its requests package).
PYTHON = '/usr/bin/python3'


class Masters:
    """The HA rig, the inventory of its two masters and a way to run the role on them."""

    def __init__(self, rig, root):
        self.rig = rig
        self.root = root
        self.saved = {}
        for host in MASTERS:
            self.saved[host] = (self.core_site(host), (root / (host + '-core-site.xml')).as_posix())
            shutil.copy2(*self.saved[host])

    def core_site(self, host):
        return os.path.join(self.rig.master_conf_dir(MASTERS.index(host) + 1), 'core-site.xml')

    def inventory(self, users, **overrides):
        rig = self.rig
        env = rig.client_env()
        hosts = {}
        for number, host in enumerate(MASTERS, 1):
            conf = self.root / host
            conf.mkdir(exist_ok=True)
            if not (conf / 'livy.conf').exists():
                shutil.copy(LIVY_TEMPLATE, conf / 'livy.conf')
            hosts[host] = {
                'ansible_connection': 'local',
                'ansible_python_interpreter': PYTHON,
                'livy_impersonation_livy_conf_path': str(conf / 'livy.conf'),
                'livy_impersonation_core_site_path': self.core_site(host),
                'livy_impersonation_hdfs_site_path': os.path.join(rig.master_conf_dir(number), 'hdfs-site.xml'),
                # Each master's commands read that master's conf dir, as on a real master node.
                'livy_impersonation_hadoop_environment': {
                    'HADOOP_HOME': rig.home, 'HADOOP_CONF_DIR': rig.master_conf_dir(number),
                    'JAVA_HOME': env['JAVA_HOME']},
            }
        common = {
            'livy_impersonation_users': users,
            'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
            'livy_impersonation_livy_restart': False,
            'livy_impersonation_backup': False,
            'livy_impersonation_hdfs_bin': os.path.join(rig.home, 'bin', 'hdfs'),
            'livy_impersonation_yarn_bin': os.path.join(rig.home, 'bin', 'yarn'),
            # nn2 first: the standby is asked first whenever nn1 is the active one.
            'livy_impersonation_hdfs_namenode_url': [rig.namenode_http('nn2'), rig.namenode_http('nn1')],
            'ansible_become_method': 'su',
            'ansible_become_flags': '-s /bin/sh',
        }
        common.update(overrides)
        path = self.root / 'inventory.yml'
        path.write_text(yaml.safe_dump({'masters': {'hosts': hosts, 'vars': common}}))
        return str(path)

    def run_role(self, users, **overrides):
        play = [{'name': 'HA masters', 'hosts': 'masters', 'gather_facts': False, 'tasks': [
            {'name': 'Apply the role', 'ansible.builtin.include_role': {
                'name': 'datalake.notebooks.livy_impersonation'}}]}]
        run = run_playbook(play, inventory=self.inventory(users, **overrides),
                           env={'ANSIBLE_PYTHON_INTERPRETER': PYTHON})
        assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:] + self.rig.log_tail(30)
        return run

    def reset(self):
        """Both masters' core-site.xml as the rig wrote it, loaded everywhere; nn1 and rm1 active."""
        for source, saved in self.saved.values():
            shutil.copy2(saved, source)
        # A ResourceManager reads its settings when it becomes active: files first, then failover.
        self.rig.make_active(namenode='nn1', rm='rm1')
        self.rig.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', check=True)
        self.rig.yarn('rmadmin', '-refreshSuperUserGroupsConfiguration', check=True)


@pytest.fixture(scope='module')
def ha_masters(hadoop_ha, tmp_path_factory):
    return Masters(hadoop_ha, tmp_path_factory.mktemp('ha-masters'))


@pytest.fixture
def masters(ha_masters):
    ha_masters.reset()
    yield ha_masters
    ha_masters.reset()


def start_times(rig):
    """JVM start time of each NameNode and ResourceManager, from its JMX servlet: changes only with a restart."""
    urls = [rig.namenode_http(nn) for nn in rig.namenode_ids] + [rig.rm_webapp(rm) for rm in rig.rm_ids]
    times = []
    for url in urls:
        # No redirect: a standby RM's web app would send the request to the active one.
        resp = requests.get(url + '/jmx', params={'qry': 'java.lang:type=Runtime'}, timeout=30, allow_redirects=False)
        assert resp.status_code == 200, (url, resp.status_code)
        times.append(resp.json()['beans'][0]['StartTime'])
    return times


def doas(rig, namenode, user):
    """(status, exception name) of a WebHDFS GETFILESTATUS on /user as livy acting as `user`."""
    status, body = rig.webhdfs('GET', '/user', 'GETFILESTATUS', user='livy', doas=user, namenode=namenode)
    if status == 200:
        return status, None
    return status, body['RemoteException']['exception']


def rpc_as(rig, namenode, user, *args):
    """`hdfs dfs -fs hdfs://NAMENODE ARGS` as livy with HADOOP_PROXY_USER=user (Livy's RPC way)."""
    return rig.hdfs('dfs', '-fs', 'hdfs://' + rig.namenode_rpc_address(namenode), *args, user='livy', proxy_user=user)


def yarn_as(rig, user):
    """`yarn application -list` as livy acting as `user`, against whichever RM is active."""
    return rig.yarn('application', '-list', user='livy', proxy_user=user)


def refresh_count(rig, namenode):
    return sum(1 for record in rig.audit_log(namenode) if record['cmd'] == 'refreshSuperUserGroupsConfiguration')


def rm_refreshes(rig, rm):
    """RESULT= of each refreshSuperUserGroupsConfiguration in the RM's audit lines (SUCCESS, FAILURE)."""
    name = 'resourcemanager.log' if rm == 'rm1' else 'resourcemanager2.log'
    with open(os.path.join(rig.run_dir, 'logs', name), errors='replace') as handle:
        return [line.split('RESULT=')[1].split('\t')[0].strip() for line in handle
                if 'RMAuditLogger' in line and 'OPERATION=refreshSuperUserGroupsConfiguration' in line]


def home(rig, namenode, user, base='/user'):
    status, body = rig.webhdfs('GET', base + '/' + user, 'GETFILESTATUS', namenode=namenode)
    assert status == 200, (namenode, user, body)
    return body['FileStatus']['owner'], body['FileStatus']['permission']


def test_ha_rig_is_one_namespace_on_two_namenodes_and_two_resourcemanagers(hadoop_ha):
    rig = hadoop_ha
    assert rig.env['HA_ENABLED'] == '1' and rig.namenode_rpc == 'hdfs://datalake'
    rig.make_active(namenode='nn1', rm='rm1')
    assert [rig.namenode_state(nn) for nn in ('nn1', 'nn2')] == ['active', 'standby']
    assert [rig.rm_state(rm) for rm in ('rm1', 'rm2')] == ['active', 'standby']
    infos = [requests.get(rig.namenode_http(nn) + '/jmx', timeout=30,
                          params={'qry': 'Hadoop:service=NameNode,name=NameNodeInfo'}).json()['beans'][0]
             for nn in ('nn1', 'nn2')]
    assert infos[0]['ClusterId'] == infos[1]['ClusterId'] == 'datalake-rig'
    assert infos[0]['BlockPoolId'] == infos[1]['BlockPoolId']
    # What one NameNode writes, the other serves after a failover (the shared edits).
    rig.hdfs('dfs', '-mkdir', '-p', '/tmp/ha-probe', check=True)
    rig.make_active(namenode='nn2')
    status, body = rig.webhdfs('GET', '/tmp/ha-probe', 'GETFILESTATUS', namenode='nn2')
    assert status == 200, body
    status, body = rig.webhdfs('GET', '/tmp/ha-probe', 'GETFILESTATUS', namenode='nn1')
    assert status == 403 and body['RemoteException']['exception'] == 'StandbyException', body
    rig.make_active(namenode='nn1')


def test_role_refreshes_every_namenode_and_resourcemanager_across_failovers(masters):
    rig = masters.rig
    for namenode in ('nn1', 'nn2'):
        assert doas(rig, namenode, 'shirley') == (403, 'AuthorizationException')
    proc = yarn_as(rig, 'shirley')
    assert proc.returncode != 0 and 'User: livy is not allowed to impersonate shirley' in proc.stderr, proc.stderr
    started = start_times(rig)
    refreshes = {nn: refresh_count(rig, nn) for nn in ('nn1', 'nn2')}
    rm_before = {rm: len(rm_refreshes(rig, rm)) for rm in ('rm1', 'rm2')}

    run = masters.run_role(USERS)
    for host in MASTERS:
        result = run.task(HDFS_REFRESH, host)
        assert result['changed'] is True
        for namenode in ('nn1', 'nn2'):
            assert 'successful for localhost/%s' % rig.namenode_rpc_address(namenode) in result['stdout'], result
        assert run.task(YARN_REFRESH, host)['changed'] is True
    # dfsadmin on each master reached both NameNodes; rmadmin reached the active RM only.
    assert {nn: refresh_count(rig, nn) - refreshes[nn] for nn in refreshes} == {'nn1': 2, 'nn2': 2}
    assert rm_refreshes(rig, 'rm1')[rm_before['rm1']:] == ['SUCCESS', 'SUCCESS']
    assert rm_refreshes(rig, 'rm2')[rm_before['rm2']:] == []

    # The active NameNode lets livy act as the notebook users, never as hdfs; the standby took the
    # same settings: it now turns the proxied call down as a standby, not as an impersonation.
    assert doas(rig, 'nn1', 'shirley') == (200, None)
    assert doas(rig, 'nn2', 'shirley') == (403, 'StandbyException')
    for namenode in ('nn1', 'nn2'):
        assert doas(rig, namenode, 'hdfs') == (403, 'AuthorizationException')
    proc = rpc_as(rig, 'nn2', 'shirley', '-ls', '/user')
    assert 'is not supported in state standby' in proc.stderr and 'impersonate' not in proc.stderr, proc.stderr
    proc = rpc_as(rig, 'nn2', 'hdfs', '-ls', '/user')
    assert 'User: livy is not allowed to impersonate hdfs' in proc.stderr, proc.stderr
    assert yarn_as(rig, 'shirley').returncode == 0
    assert 'not allowed to impersonate hdfs' in yarn_as(rig, 'hdfs').stderr
    for user in USERS:
        assert home(rig, 'nn1', user) == (user, '750')
    assert run.task('Each notebook user has an HDFS home directory only they can write', 'master1')['namenode'] \
        == rig.namenode_http('nn1')

    # Both pairs fail over: nn2 and rm2 serve Livy as the notebook users with no refresh since.
    rig.make_active(namenode='nn2', rm='rm2')
    assert doas(rig, 'nn2', 'shirley') == (200, None)
    assert doas(rig, 'nn2', 'hdfs') == (403, 'AuthorizationException')
    proc = rig.hdfs('dfs', '-touchz', '/user/shirley/after-failover', user='livy', proxy_user='shirley')
    assert proc.returncode == 0, proc.stderr
    status, body = rig.webhdfs('GET', '/user/shirley/after-failover', 'GETFILESTATUS', namenode='nn2')
    assert status == 200 and body['FileStatus']['owner'] == 'shirley', body
    assert yarn_as(rig, 'shirley').returncode == 0
    assert 'not allowed to impersonate hdfs' in yarn_as(rig, 'hdfs').stderr

    # A second run after the failover adds a user: the home on nn2, the settings on all four.
    rm_before = {rm: len(rm_refreshes(rig, rm)) for rm in ('rm1', 'rm2')}
    run = masters.run_role(USERS + ['carol'])
    homes = run.task('Each notebook user has an HDFS home directory only they can write', 'master1')
    assert homes['created_users'] == ['carol'] and homes['namenode'] == rig.namenode_http('nn2'), homes
    assert home(rig, 'nn2', 'carol') == ('carol', '750')
    assert doas(rig, 'nn2', 'carol') == (200, None)
    assert doas(rig, 'nn1', 'carol') == (403, 'StandbyException')
    assert yarn_as(rig, 'carol').returncode == 0
    # rmadmin asked rm1 first (a standby: refused), then failed over to rm2.
    assert rm_refreshes(rig, 'rm1')[rm_before['rm1']:] == ['FAILURE', 'FAILURE']
    assert rm_refreshes(rig, 'rm2')[rm_before['rm2']:] == ['SUCCESS', 'SUCCESS']

    # Back to nn1/rm1: carol is allowed there too, so both standbys had taken the second run.
    rig.make_active(namenode='nn1', rm='rm1')
    assert doas(rig, 'nn1', 'carol') == (200, None)
    assert yarn_as(rig, 'carol').returncode == 0

    again = masters.run_role(USERS + ['carol'])
    for host in MASTERS:
        assert again.stats(host)['changed'] == 0, host
        with pytest.raises(KeyError):
            again.task(HDFS_REFRESH, host)
    assert start_times(rig) == started, 'a NameNode or ResourceManager was restarted'


def test_yarn_refresh_with_no_active_resourcemanager_fails_within_the_bound(masters):
    rig = masters.rig
    rig.yarn('rmadmin', '-transitionToStandby', 'rm1', check=True)
    assert [rig.rm_state(rm) for rm in ('rm1', 'rm2')] == ['standby', 'standby']
    play = [{'name': 'HA masters', 'hosts': 'master1', 'gather_facts': False, 'tasks': [
        {'name': 'Apply the role', 'ansible.builtin.include_role': {
            'name': 'datalake.notebooks.livy_impersonation'}}]}]
    inventory = masters.inventory(USERS, livy_impersonation_yarn_refresh_max_wait=40,
                                  livy_impersonation_hdfs_homedirs=False)
    run = run_playbook(play, inventory=inventory, env={'ANSIBLE_PYTHON_INTERPRETER': PYTHON}, timeout=300)
    assert run.rc != 0
    failed = run.task(YARN_REFRESH, 'master1')
    assert failed['failed'] is True and 'is not Active' in failed['stderr'], failed
    # Hadoop's client alone keeps trying for 15 minutes; the handler gave up after its bound.
    assert failed['delta'] < '0:01:00', failed['delta']
    # The HDFS side did its part before.
    assert run.task(HDFS_REFRESH, 'master1')['changed'] is True


def homedir_run(rig, users, **args):
    args.setdefault('base', '/ha-homes')
    task = {'name': 'homes', 'datalake.notebooks.hdfs_homedir': dict({'users': users}, **args)}
    run = run_playbook(local_play([task]))
    assert run.rc == 0, run.stdout[-5000:] + run.stderr[-2000:] + rig.log_tail(20)
    return run.task('homes')


def homes_listed(rig):
    """The home directories under /ha-homes, as the HDFS client lists them through the nameservice."""
    proc = rig.hdfs('dfs', '-ls', '-C', '/ha-homes', check=True)
    return sorted(os.path.basename(line) for line in proc.stdout.split())


def test_hdfs_homedir_makes_homes_on_the_active_namenode_across_failovers(hadoop_ha):
    rig = hadoop_ha
    both = [rig.namenode_http('nn1'), rig.namenode_http('nn2')]
    rig.make_active(namenode='nn1')

    # Both NameNodes listed, the standby first: skipped, the home made on nn1.
    result = homedir_run(rig, ['ha-ann'], namenode_url=both[::-1])
    assert result['changed'] and result['created_users'] == ['ha-ann'] and result['namenode'] == both[0], result

    # Failover between two runs: the same list, in the other order, now finds nn2 active.
    rig.make_active(namenode='nn2')
    result = homedir_run(rig, ['ha-ann', 'ha-ben'], namenode_url=both)
    assert result['created_users'] == ['ha-ben'] and result['unchanged'] == 1, result
    assert result['namenode'] == both[1], result

    # No namenode_url: both NameNodes come from hdfs-site.xml (dfs.ha.namenodes.datalake).
    result = homedir_run(rig, ['ha-ann', 'ha-ben', 'ha-cid'], hadoop_conf_dir=rig.conf_dir)
    assert result['created_users'] == ['ha-cid'] and result['namenode'] == both[1], result
    rig.make_active(namenode='nn1')
    result = homedir_run(rig, ['ha-ann', 'ha-ben', 'ha-cid', 'ha-dee'], hadoop_conf_dir=rig.conf_dir)
    assert result['created_users'] == ['ha-dee'] and result['namenode'] == both[0], result

    # The hdfs command goes through the nameservice: its own client finds the active NameNode.
    rig.make_active(namenode='nn2')
    users = ['ha-ann', 'ha-ben', 'ha-cid', 'ha-dee', 'ha-eve']
    result = homedir_run(rig, users, backend='cli', hadoop_conf_dir=rig.conf_dir,
                         hdfs_bin=os.path.join(rig.home, 'bin', 'hdfs'))
    assert result['created_users'] == ['ha-eve'], result

    assert homes_listed(rig) == users
    for user in users:
        assert home(rig, 'nn2', user, '/ha-homes') == (user, '750')
    # Nothing left to do, whichever NameNode is active and however they are found.
    rig.make_active(namenode='nn1')
    for args in ({'namenode_url': both[::-1]}, {'hadoop_conf_dir': rig.conf_dir}):
        result = homedir_run(rig, users, **args)
        assert not result['changed'] and result['unchanged'] == len(users), result


@pytest.fixture
def hdfs_readable_dir():
    """A directory user hdfs can read (pytest's tmp dirs are root's, mode 700)."""
    path = tempfile.mkdtemp(prefix='ha-conf-', dir='/tmp')
    os.chmod(path, 0o755)
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


def test_hdfs_refresh_fails_naming_a_namenode_it_cannot_reach_after_refreshing_the_others(
        masters, hdfs_readable_dir, tmp_path):
    rig = masters.rig
    # master1's conf with nn2 at a port nothing listens on: a NameNode that is down or cut off.
    conf = hdfs_readable_dir / 'conf'
    shutil.copytree(rig.master_conf_dir(1), conf)
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        closed = '127.0.0.1:%d' % probe.getsockname()[1]
    hdfs_site = conf / 'hdfs-site.xml'
    hdfs_site.write_text(hdfs_site.read_text().replace(rig.namenode_rpc_address('nn2'), closed))
    inventory = yaml.safe_load(open(masters.inventory(USERS, livy_impersonation_hdfs_homedirs=False,
                                                      livy_impersonation_refresh_yarn=False)))
    inventory['masters']['hosts']['master1']['livy_impersonation_hadoop_environment']['HADOOP_CONF_DIR'] = str(conf)
    path = tmp_path / 'inventory.yml'
    path.write_text(yaml.safe_dump(inventory))
    play = [{'name': 'HA masters', 'hosts': 'master1', 'gather_facts': False, 'tasks': [
        {'name': 'Apply the role', 'ansible.builtin.include_role': {
            'name': 'datalake.notebooks.livy_impersonation'}}]}]
    run = run_playbook(play, inventory=str(path), env={'ANSIBLE_PYTHON_INTERPRETER': PYTHON})
    assert run.rc != 0
    failed = run.task(HDFS_REFRESH, 'master1')
    assert failed['failed'] is True
    assert 'successful for localhost/%s' % rig.namenode_rpc_address('nn1') in failed['stdout'], failed
    assert 'failed for localhost/%s' % closed in failed['stdout'], failed
    # The NameNode it reached took the new settings all the same.
    assert doas(rig, 'nn1', 'shirley') == (200, None)


def mkdirs_audited(rig, namenode, base):
    return sum(1 for record in rig.audit_log(namenode)
               if record['cmd'] == 'mkdirs' and record['src'].startswith(base + '/'))


# hdfs-native's fault during a failover comes about one run in two: RPC_FAILOVER_ATTEMPTS=6 repeats the
# run to see the client rebuilt (the test prints whether it was).
@pytest.mark.parametrize('attempt', range(int(os.environ.get('RPC_FAILOVER_ATTEMPTS', '1'))))
def test_rpc_finds_the_nameservice_and_survives_a_failover_mid_run(hadoop_ha, attempt):
    rig = hadoop_ha
    rig.make_active(namenode='nn1')
    base = '/rpc-failover-%d' % attempt
    count = 30000
    users = ['f%05d' % number for number in range(count)]
    failed_over = {}

    def fail_over_once_writing():
        deadline = time.monotonic() + 120
        while mkdirs_audited(rig, 'nn1', base) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        failed_over['at'] = mkdirs_audited(rig, 'nn1', base)
        failed_over['proc'] = rig.hdfs('haadmin', '-failover', 'nn1', 'nn2')

    trigger = threading.Thread(target=fail_over_once_writing)
    trigger.start()
    # No namenode_url: the nameservice comes from fs.defaultFS and hdfs-site.xml of the node.
    result = homedir_run(rig, users, base=base, backend='rpc', hadoop_conf_dir=rig.conf_dir)
    trigger.join()
    assert failed_over['proc'].returncode == 0, failed_over['proc'].stderr
    assert result['namenode'] == 'hdfs://datalake', result
    assert result['created'] == count and result['failures'] == [], result
    rebuilt = [warning for warning in result.get('warnings', []) if 'hdfs-native' in warning]
    # Both NameNodes took some of the writes: the failover happened while the module was writing.
    before, after = mkdirs_audited(rig, 'nn1', base), mkdirs_audited(rig, 'nn2', base)
    assert 0 < before < count and after > 0, (failed_over['at'], before, after)
    # What the new active NameNode lists, independently of the module: every home, right.
    status, body = rig.webhdfs('GET', base, 'LISTSTATUS', namenode='nn2')
    assert status == 200, body
    found = dict((entry['pathSuffix'], (entry['owner'], entry['permission']))
                 for entry in body['FileStatuses']['FileStatus'])
    assert found == dict((user, (user, '750')) for user in users)
    print('hdfs-native client rebuilds in this run: %s' % (rebuilt or 'none'))

    again = homedir_run(rig, users, base=base, backend='rpc', hadoop_conf_dir=rig.conf_dir)
    assert again['changed'] is False and again['unchanged'] == count, again
