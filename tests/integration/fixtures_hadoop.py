"""The Hadoop rig as a session fixture: NameNode, DataNode and ResourceManager on loopback ports.

`hadoop` starts tests/rigs/hadoop/start once per session and stops it at the end, whatever
happened. `hadoop_ha` does the same with `start --ha` for a test module: two masters, NameNodes
nn1 and nn2 of nameservice `datalake` and ResourceManagers rm1 and rm2, nn1 and rm1 active at
first; only the modules that ask for it start it. If a rig cannot start, every test that uses it fails with the
daemons' log tails: a missing Hadoop is a broken test machine, never a reason to skip.

    def test_home(hadoop):
        hadoop.hdfs('dfs', '-mkdir', '/user/shirley', user='hdfs')
        status, body = hadoop.webhdfs('GET', '/user/shirley', 'GETFILESTATUS', user='shirley')

`hadoop` has a NodeManager when the session runs Spark on YARN (`livy_on_yarn`): a collected test
uses the `livy` fixture, and LIVY_RIG_MASTER is not `local`. `hadoop_rig(*options)` starts one
more rig for a `with` block. Environment: HADOOP_RIG_KEEP=1 keeps the run dirs (conf, logs,
storage) after the session; HADOOP_HOME uses an assembled tree instead of tests/rigs/hadoop/install's.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from dataclasses import dataclass

import pytest
import requests

import rigs


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

    def refresh_proxy_users(self):
        """The NameNode (and the ResourceManager, with YARN) re-read core-site.xml's proxy-user scope."""
        self.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', user='hdfs', check=True)
        if self.yarn_enabled:
            self.yarn('rmadmin', '-refreshSuperUserGroupsConfiguration', user='yarn', check=True)

    def core_site_restored(self, after=None):
        """A `with` block whose changes to core-site.xml are undone at its end, then re-read
        (`after`, default refresh_proxy_users)."""
        return rigs.restored(self.core_site, after=after or self.refresh_proxy_users)

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
        return rigs.log_tail(os.path.join(self.run_dir, 'logs'), lines=lines)


def keep_run_dirs():
    return os.environ.get('HADOOP_RIG_KEEP') == '1'


@contextlib.contextmanager
def hadoop_rig(*options, what='the Hadoop rig'):
    """A HadoopRig (tests/rigs/hadoop/start OPTIONS) for the `with` block, stopped at its end; a
    rig that cannot start fails the test with start's output and the daemons' log tails."""
    try:
        # The free ports start picked may be taken by something else before a daemon binds them
        # (other test sessions run on this machine too): new ports, once.
        with rigs.running('hadoop', *options, keep=keep_run_dirs(), retry_if='java.net.BindException') as run:
            yield HadoopRig(run.run_dir, run.env, run.seconds)
    except rigs.RigError as exc:
        pytest.fail('%s did not start:\n%s' % (what, exc), pytrace=False)


def livy_on_yarn(session):
    """Whether this session runs Spark on YARN: a collected test uses the livy fixture (Spark on
    YARN needs the rig's NodeManager) and LIVY_RIG_MASTER is not 'local'."""
    return (os.environ.get('LIVY_RIG_MASTER') != 'local'
            and any('livy' in getattr(item, 'fixturenames', ()) for item in session.items))


@pytest.fixture(scope='session')
def hadoop(request):
    with hadoop_rig(*(['--nodemanager'] if livy_on_yarn(request.session) else [])) as rig:
        yield rig


@pytest.fixture(scope='module')
def hadoop_ha():
    """An HA rig (start --ha): two NameNodes sharing edits, two ResourceManagers, one DataNode.

    Module-scoped: the one module that uses it has it for all its tests, and its 1 GB is freed
    when that module is done rather than at the end of the session.
    """
    with hadoop_rig('--ha', what='the Hadoop HA rig') as rig:
        yield rig
