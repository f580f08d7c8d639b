"""The secure rig as a session fixture: an MIT KDC and a kerberized HDFS on loopback ports.

`kerberos` starts tests/rigs/kdc/start, then tests/rigs/hadoop/start --kerberos against it, once
per session and only when a collected test asks for it; both stop at the end, whatever happened.
If either cannot start, every test that uses it fails with the reason: never a skip.

    def test_home(kerberos):
        with kerberos.ticket('shirley') as env:
            kerberos.hadoop.hdfs('dfs', '-ls', '/user', env=env)

Environment: HADOOP_RIG_KEEP=1 keeps both run dirs after the session.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

from fixtures_hadoop import REPO_ROOT, HadoopRig, start_rig, stop_rig
from rigs import read_env_file

KDC_RIG_DIR = os.path.join(REPO_ROOT, 'tests', 'rigs', 'kdc')


@dataclass
class KerberosRig:
    """The KDC's rig.env, the secure HadoopRig, and helpers for tickets in private caches."""

    kdc_dir: str
    kdc: dict
    hadoop: HadoopRig
    kdc_seconds: float = 0.0

    @property
    def realm(self):
        return self.kdc['REALM']

    @property
    def krb5_conf(self):
        return self.kdc['KRB5_CONFIG']

    @property
    def host(self):
        return self.kdc['KDC_HOST']

    def keytab(self, name):
        """The path of keytabs/NAME.keytab (hdfs, http, livy, livy-http, shirley, diego, ...)."""
        return os.path.join(self.kdc['KEYTAB_DIR'], name + '.keytab')

    def principal(self, name):
        """'shirley' -> shirley@REALM; 'hdfs/' -> hdfs/HOST@REALM."""
        if name.endswith('/'):
            name += self.host
        return '%s@%s' % (name, self.realm)

    def krb_env(self, ccache=None):
        """Environment for MIT tools and Python's gssapi: the rig's krb5.conf, `ccache` if given."""
        env = dict(os.environ, KRB5_CONFIG=self.krb5_conf)
        env.pop('KRB5CCNAME', None)
        if ccache is not None:
            env['KRB5CCNAME'] = 'FILE:' + ccache
        return env

    def kinit(self, principal, keytab, ccache):
        proc = subprocess.run(['kinit', '-k', '-t', keytab, '-c', 'FILE:' + ccache, principal],
                              capture_output=True, text=True, env=self.krb_env(), timeout=60, check=False)
        if proc.returncode != 0:
            raise AssertionError('kinit %s failed: %s' % (principal, proc.stderr))

    @contextlib.contextmanager
    def ticket(self, user, keytab=None):
        """A private ticket cache holding `user`'s ticket (from its keytab); yields the env to use."""
        workdir = tempfile.mkdtemp(prefix='krb5cc-')
        ccache = os.path.join(workdir, 'cc')
        try:
            self.kinit(self.principal(user), keytab or self.keytab(user.rstrip('/').split('/')[0]), ccache)
            yield self.krb_env(ccache)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def role_variables(self, livy_conf_path, users):
        """The role's settings for this rig with Kerberos on: homes through the cli backend (Debian's
        Python, which the handlers' users can run, has no requests-gssapi), proxy users for `users`
        from loopback, the refreshes with the HDFS superuser's ticket, no restarts."""
        hadoop = self.hadoop
        env = hadoop.client_env()
        return {
            'livy_impersonation_livy_conf_path': livy_conf_path,
            'livy_impersonation_core_site_path': hadoop.core_site,
            'livy_impersonation_users': list(users),
            'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
            'livy_impersonation_livy_restart': False,
            'livy_impersonation_backup': False,
            'livy_impersonation_refresh_yarn': False,
            'livy_impersonation_hdfs_backend': 'cli',
            'livy_impersonation_hdfs_bin': os.path.join(hadoop.home, 'bin', 'hdfs'),
            'livy_impersonation_hadoop_environment': dict(
                {key: env[key] for key in ('HADOOP_HOME', 'HADOOP_CONF_DIR', 'JAVA_HOME')},
                KRB5_CONFIG=self.krb5_conf),
            'livy_impersonation_kerberos': True,
            'livy_impersonation_kerberos_hdfs_principal': self.principal('hdfs/'),
            'livy_impersonation_kerberos_hdfs_keytab': self.keytab('hdfs'),
            'livy_impersonation_kerberos_livy_principal': self.principal('livy/'),
            'livy_impersonation_kerberos_livy_keytab': self.keytab('livy'),
            'livy_impersonation_kerberos_spnego_principal': self.principal('HTTP/'),
            'livy_impersonation_kerberos_spnego_keytab': self.keytab('livy-http'),
            # The rig's service accounts have no login shell.
            'ansible_become_method': 'su',
            'ansible_become_flags': '-s /bin/sh',
        }

    def hdfs(self, *args, env, proxy_user=None, check=False, timeout=120):
        """`hdfs ARGS` with the Kerberos identity of `env` (from ticket()), acting as `proxy_user`
        if given (HADOOP_PROXY_USER, which the NameNode checks against hadoop.proxyuser.*)."""
        cmd = [os.path.join(self.hadoop.home, 'bin', 'hdfs'), *args]
        run_env = self.hadoop.client_env(proxy_user=proxy_user)
        run_env.pop('HADOOP_USER_NAME', None)
        run_env.update({key: env[key] for key in ('KRB5_CONFIG', 'KRB5CCNAME') if key in env})
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
        if check and proc.returncode != 0:
            raise AssertionError('%s exited %d:\n%s\n%s' % (' '.join(cmd), proc.returncode, proc.stdout, proc.stderr))
        return proc


def _stop_kdc(kdc_dir):
    subprocess.run([os.path.join(KDC_RIG_DIR, 'stop'), kdc_dir], capture_output=True, text=True,
                   timeout=60, check=False)


@pytest.fixture(scope='session')
def kerberos():
    # The daemons' users read their keytabs and the conf: run dirs outside pytest's mode-700 ones.
    kdc_dir = tempfile.mkdtemp(prefix='kdc-rig-', dir='/tmp')
    hadoop_dir = tempfile.mkdtemp(prefix='hadoop-secure-rig-', dir='/tmp')
    for path in (kdc_dir, hadoop_dir):
        os.chmod(path, 0o755)
    # Exactly the secure rig: the single rig's HADOOP_RIG_* switches are not its.
    env = {key: value for key, value in os.environ.items() if not key.startswith('HADOOP_RIG_')}
    if 'HADOOP_RIG_TIMEOUT' in os.environ:
        env['HADOOP_RIG_TIMEOUT'] = os.environ['HADOOP_RIG_TIMEOUT']
    try:
        began = time.monotonic()
        # The KDC hands each daemon user its keytab: those users come from the Hadoop rig's own list.
        subprocess.run(['bash', '-c', 'source "$1/lib.sh"; ensure_users', 'ensure_users',
                        os.path.join(REPO_ROOT, 'tests', 'rigs', 'hadoop')], check=True, timeout=60)
        proc = subprocess.run([os.path.join(KDC_RIG_DIR, 'start'), kdc_dir], capture_output=True, text=True,
                              timeout=600, check=False)
        if proc.returncode != 0:
            pytest.fail('the KDC rig did not start (exit %d):\n%s\n%s'
                        % (proc.returncode, proc.stdout, proc.stderr[-20000:]), pytrace=False)
        kdc = read_env_file(os.path.join(kdc_dir, 'rig.env'))
        kdc_seconds = time.monotonic() - began
        try:
            hadoop = start_rig(hadoop_dir, ['--kerberos', kdc_dir], env)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            pytest.fail('the secure Hadoop rig did not start:\n%s' % exc, pytrace=False)
        # Python's gssapi (MIT's library) in this process reads the rig's krb5.conf.
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv('KRB5_CONFIG', kdc['KRB5_CONFIG'])
            yield KerberosRig(kdc_dir, kdc, hadoop, kdc_seconds)
    finally:
        stop_rig(hadoop_dir)
        _stop_kdc(kdc_dir)
        if os.environ.get('HADOOP_RIG_KEEP') != '1':
            shutil.rmtree(hadoop_dir, ignore_errors=True)
            shutil.rmtree(kdc_dir, ignore_errors=True)


@pytest.fixture(scope='module')
def kerberos_livy(kerberos):
    """Livy (tests/rigs/livy, local Spark) on the secure rig, configured by the role with Kerberos on.

    Livy starts once (its launch login and SPNEGO from the rig), the role then sets livy.conf and the
    proxy-user scope (shirley, diego) and refreshes the NameNode with a ticket, and Livy restarts to
    read livy.conf, as the role's handler does on a node. Module-scoped: Livy stops and the secure
    core-site.xml is put back (and reloaded) when the module that asked is done.
    """
    from fixtures_livy import LivyRig
    from playbook import local_play, run_playbook

    run_dir = tempfile.mkdtemp(prefix='livy-secure-rig-', dir='/tmp')
    os.chmod(run_dir, 0o755)
    saved = kerberos.hadoop.core_site + '.before-livy'
    shutil.copy2(kerberos.hadoop.core_site, saved)
    livy = LivyRig(run_dir, os.path.join(kerberos.hadoop.run_dir, 'rig.env'), 'local')
    try:
        livy.start()
        play = local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
            'name': 'datalake.notebooks.livy_impersonation'}}])
        run = run_playbook(play, extra_vars=kerberos.role_variables(livy.conf_path, ['shirley', 'diego']),
                           env={'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3'})
        if run.rc != 0:
            pytest.fail('the role did not apply to the secure Livy:\n%s\n%s' % (run.stdout[-8000:], run.stderr[-3000:]),
                        pytrace=False)
        livy.restart()
        yield livy
    finally:
        livy.stop()
        os.replace(saved, kerberos.hadoop.core_site)
        with kerberos.ticket('hdfs/') as env:
            kerberos.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', env=env)
        if os.environ.get('HADOOP_RIG_KEEP') != '1':
            shutil.rmtree(run_dir, ignore_errors=True)
