"""The Hadoop rig as a session fixture: NameNode, DataNode and ResourceManager on loopback ports.

`hadoop` starts tests/rigs/hadoop/start once per session and stops it at the end, whatever
happened. `hadoop_ha` does the same with `start --ha` for a test module: two masters, NameNodes
nn1 and nn2 of nameservice `datalake` and ResourceManagers rm1 and rm2, nn1 and rm1 active at
first; only the modules that ask for it start it. If a rig cannot start, every test that uses it fails with the
daemons' log tails: a missing Hadoop is a broken test machine, never a reason to skip.

    def test_home(hadoop):
        hadoop.hdfs('dfs', '-mkdir', '/user/shirley', user='hdfs')
        status, body = hadoop.webhdfs('GET', '/user/shirley', 'GETFILESTATUS', user='shirley')

Environment: HADOOP_RIG_NODEMANAGER=1 also starts a NodeManager; HADOOP_RIG_KEEP=1 keeps the run
dir (conf, logs, storage) after the session; HADOOP_HOME uses an assembled tree instead of
tests/rigs/hadoop/install's.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest
import requests

from rigs import read_env_file

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
RIG_DIR = os.path.join(REPO_ROOT, 'tests', 'rigs', 'hadoop')


@dataclass
class HadoopRig:
    """A running rig: the values of rig.env plus helpers to act as a given Hadoop user."""

    run_dir: str
    env: dict
    start_seconds: float = 0.0

    @property
    def home(self):
        return self.env['HADOOP_HOME']

    @property
    def conf_dir(self):
        return self.env['HADOOP_CONF_DIR']

    @property
    def core_site(self):
        return os.path.join(self.conf_dir, 'core-site.xml')

    @property
    def namenode_rpc(self):
        return self.env['NAMENODE_RPC']

    @property
    def webhdfs_url(self):
        return self.env['WEBHDFS_URL']

    @property
    def yarn_enabled(self):
        return self.env.get('YARN_ENABLED') == '1'

    def client_env(self, user='hdfs', proxy_user=None):
        """Environment for a Hadoop client acting as `user` (simple auth: HADOOP_USER_NAME), or as
        `user` impersonating `proxy_user` (HADOOP_PROXY_USER), which the daemons check against
        hadoop.proxyuser.USER.*."""
        env = dict(os.environ)
        for key in ('HADOOP_OPTS', 'HADOOP_CLIENT_OPTS', 'HADOOP_CLASSPATH', 'HADOOP_PROXY_USER'):
            env.pop(key, None)
        if proxy_user is not None:
            env['HADOOP_PROXY_USER'] = proxy_user
        env.update({
            'HADOOP_HOME': self.home,
            'HADOOP_CONF_DIR': self.conf_dir,
            'JAVA_HOME': self.env['JAVA_HOME'],
            'HADOOP_USER_NAME': user,
            'PATH': os.path.join(self.home, 'bin') + os.pathsep + env.get('PATH', ''),
        })
        return env

    def role_variables(self):
        """The role's settings for running Hadoop's commands from this rig (its handlers' refreshes)."""
        bin_dir = os.path.join(self.home, 'bin')
        return {
            'livy_impersonation_core_site_path': self.core_site,
            'livy_impersonation_hdfs_bin': os.path.join(bin_dir, 'hdfs'),
            'livy_impersonation_yarn_bin': os.path.join(bin_dir, 'yarn'),
            'livy_impersonation_hadoop_environment': {
                'HADOOP_CONF_DIR': self.conf_dir, 'HADOOP_HOME': self.home, 'JAVA_HOME': self.env['JAVA_HOME'],
                'PATH': os.pathsep.join([bin_dir, '/usr/bin', '/bin'])},
        }

    def run(self, tool, *args, user='hdfs', proxy_user=None, check=False, timeout=120):
        """`tool` (hdfs, yarn or hadoop) with `args` as Hadoop user `user`; a CompletedProcess."""
        cmd = [os.path.join(self.home, 'bin', tool), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=self.client_env(user, proxy_user),
                              timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('%s (as %s) exited %d:\n%s\n%s'
                                 % (' '.join(cmd), user, proc.returncode, proc.stdout, proc.stderr))
        return proc

    def hdfs(self, *args, user='hdfs', proxy_user=None, check=False, timeout=120):
        return self.run('hdfs', *args, user=user, proxy_user=proxy_user, check=check, timeout=timeout)

    def yarn(self, *args, user='yarn', proxy_user=None, check=False, timeout=120):
        return self.run('yarn', *args, user=user, proxy_user=proxy_user, check=check, timeout=timeout)

    def webhdfs(self, method, path, op, user='hdfs', doas=None, data=None, namenode=None, **params):
        """One WebHDFS call as `user` (and `doas`); returns (HTTP status, decoded JSON or text).

        A 307 to a DataNode (CREATE, APPEND, OPEN) is followed with the same method and data.
        `namenode` (nn1, nn2) asks that NameNode of an HA rig instead of the first one.
        """
        query = dict(params, op=op)
        query['user.name'] = user
        if doas is not None:
            query['doas'] = doas
        base = self.webhdfs_url if namenode is None else self.namenode_http(namenode) + '/webhdfs/v1'
        url = base + (path if path.startswith('/') else '/' + path)
        resp = requests.request(method, url, params=query, allow_redirects=False, timeout=30)
        if resp.status_code == 307:
            resp = requests.request(method, resp.headers['Location'], data=data, timeout=30)
        try:
            body = resp.json()
        except ValueError:
            body = resp.text
        return resp.status_code, body

    def audit_log(self, namenode=None):
        """The NameNode's audit records so far, each a dict: allowed, ugi, ip, cmd, src, dst, perm.

        On an HA rig, `namenode='nn2'` reads the second NameNode's.
        """
        records = []
        path = os.path.join(self.run_dir, 'logs', 'hdfs-audit2.log' if namenode == 'nn2' else 'hdfs-audit.log')
        if not os.path.exists(path):
            return records
        with open(path) as handle:
            for line in handle:
                # "DATE TIME allowed=true<TAB>ugi=hdfs (auth:SIMPLE)<TAB>ip=/127.0.0.1<TAB>cmd=..."
                record = line.rstrip('\n').split(' ', 2)[-1]
                fields = dict(field.split('=', 1) for field in record.split('\t') if '=' in field)
                if 'cmd' in fields:
                    fields['allowed'] = fields['allowed'].endswith('true')
                    fields['ugi'] = fields['ugi'].split(' ')[0]
                    records.append(fields)
        return records

    # HA rigs (start --ha) only.

    @property
    def namenode_ids(self):
        return self.env['NAMENODE_IDS'].split()

    @property
    def rm_ids(self):
        return self.env['RM_IDS'].split()

    def namenode_http(self, namenode):
        """http://127.0.0.1:PORT of NameNode nn1 or nn2."""
        return self.env['NAMENODE_%s_HTTP' % namenode.upper()]

    def namenode_rpc_address(self, namenode):
        return self.env['NAMENODE_%s_RPC_ADDRESS' % namenode.upper()]

    def master_conf_dir(self, master):
        """The conf dir master 1 or 2 runs its NameNode and ResourceManager with."""
        return self.env['MASTER%d_CONF_DIR' % master]

    def rm_webapp(self, rm):
        return self.env['RM_%s_WEBAPP' % rm.upper()]

    def namenode_state(self, namenode):
        """'active' or 'standby', as `hdfs haadmin -getServiceState` says."""
        return self.hdfs('haadmin', '-getServiceState', namenode, check=True).stdout.strip()

    def rm_state(self, rm):
        """'active' or 'standby', as `yarn rmadmin -getServiceState` says."""
        return self.yarn('rmadmin', '-getServiceState', rm, check=True).stdout.strip()

    def make_active(self, namenode=None, rm=None):
        """Fail over by hand so that `namenode` (and `rm`) is the active one; no-op if it is."""
        if namenode is not None and self.namenode_state(namenode) != 'active':
            other, = [nn for nn in self.namenode_ids if nn != namenode]
            # The old active steps down first, then the new one catches up on the shared edits.
            self.hdfs('haadmin', '-failover', other, namenode, check=True)
        if rm is not None and self.rm_state(rm) != 'active':
            # rmadmin has no -failover for ResourceManagers: standby first, then active.
            for other in self.rm_ids:
                if other != rm and self.rm_state(other) == 'active':
                    self.yarn('rmadmin', '-transitionToStandby', other, check=True)
            self.yarn('rmadmin', '-transitionToActive', rm, check=True)

    def log_tail(self, lines=50):
        """The last lines of each daemon's log, for assertion messages."""
        out = []
        log_dir = os.path.join(self.run_dir, 'logs')
        for name in sorted(os.listdir(log_dir)):
            with open(os.path.join(log_dir, name), errors='replace') as handle:
                tail = handle.readlines()[-lines:]
            out.append('----- %s -----\n%s' % (name, ''.join(line[:1000] for line in tail)))
        return '\n'.join(out)


def start_rig(run_dir, extra_args=(), env=None):
    """Run the rig's start script into `run_dir`; returns the HadoopRig or raises with the logs.

    `env` replaces the environment start sees (None: this process's).
    """
    began = time.monotonic()
    cmd = [os.path.join(RIG_DIR, 'start'), *extra_args, run_dir]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    if proc.returncode != 0 and 'java.net.BindException' in proc.stderr:
        # The free ports start picked were taken by something else before a daemon bound them
        # (other test sessions run on this machine too): new ports, once.
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False, env=env)
    if proc.returncode != 0:
        raise RuntimeError('tests/rigs/hadoop/start exited %d\n%s\n%s'
                           % (proc.returncode, proc.stdout, proc.stderr[-20000:]))
    return HadoopRig(run_dir, read_env_file(os.path.join(run_dir, 'rig.env')),
                     time.monotonic() - began)


def stop_rig(run_dir):
    return subprocess.run([os.path.join(RIG_DIR, 'stop'), run_dir],
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope='session')
def hadoop():
    # The daemons run as user hdfs/yarn: the run dir must be reachable by them, which pytest's
    # own tmp dirs (mode 700 under root's) are not.
    run_dir = tempfile.mkdtemp(prefix='hadoop-rig-', dir='/tmp')
    os.chmod(run_dir, 0o755)
    extra = ['--nodemanager'] if os.environ.get('HADOOP_RIG_NODEMANAGER') == '1' else []
    try:
        try:
            rig = start_rig(run_dir, extra)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            pytest.fail('the Hadoop rig did not start:\n%s' % exc, pytrace=False)
        yield rig
    finally:
        stop_rig(run_dir)
        if os.environ.get('HADOOP_RIG_KEEP') != '1':
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture(scope='module')
def hadoop_ha():
    """An HA rig (start --ha): two NameNodes sharing edits, two ResourceManagers, one DataNode.

    Module-scoped: the one module that uses it has it for all its tests, and its 1 GB is freed
    when that module is done rather than at the end of the session.
    """
    run_dir = tempfile.mkdtemp(prefix='hadoop-ha-rig-', dir='/tmp')
    os.chmod(run_dir, 0o755)
    # Exactly the HA pair: the single rig's HADOOP_RIG_* switches (a NodeManager for Livy) are not its.
    env = {key: value for key, value in os.environ.items() if not key.startswith('HADOOP_RIG_')}
    if 'HADOOP_RIG_TIMEOUT' in os.environ:
        env['HADOOP_RIG_TIMEOUT'] = os.environ['HADOOP_RIG_TIMEOUT']
    try:
        try:
            rig = start_rig(run_dir, ['--ha'], env)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            pytest.fail('the Hadoop HA rig did not start:\n%s' % exc, pytrace=False)
        yield rig
    finally:
        stop_rig(run_dir)
        if os.environ.get('HADOOP_RIG_KEEP') != '1':
            shutil.rmtree(run_dir, ignore_errors=True)
