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
from dataclasses import dataclass

import pytest

import rigs
from fixtures_hadoop import HadoopRig, hadoop_rig, keep_run_dirs


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

    def refresh_proxy_users(self):
        """The secure NameNode re-reads core-site.xml's proxy-user scope (with the hdfs ticket)."""
        with self.ticket('hdfs/') as env:
            self.hdfs('dfsadmin', '-refreshSuperUserGroupsConfiguration', env=env, check=True)

    def core_site_restored(self):
        """A `with` block whose changes to the secure core-site.xml are undone at its end, then re-read."""
        return rigs.restored(self.hadoop.core_site, after=self.refresh_proxy_users)

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


@pytest.fixture(scope='session')
def kerberos():
    # The daemons' users read their keytabs and the conf: run dirs outside pytest's mode-700 ones.
    try:
        kdc_rig = rigs.running('kdc', keep=keep_run_dirs())
        with kdc_rig as kdc, hadoop_rig('--kerberos', kdc.run_dir, what='the secure Hadoop rig') as hadoop:
            # Python's gssapi (MIT's library) in this process reads the rig's krb5.conf.
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv('KRB5_CONFIG', kdc.env['KRB5_CONFIG'])
                yield KerberosRig(kdc.run_dir, kdc.env, hadoop, kdc.seconds)
    except rigs.RigError as exc:
        pytest.fail('the KDC rig did not start:\n%s' % exc, pytrace=False)


@pytest.fixture(scope='module')
def kerberos_livy(kerberos):
    """Livy (tests/rigs/livy, local Spark) on the secure rig, configured by the role with Kerberos on.

    Livy starts once (its launch login and SPNEGO from the rig), the role then sets livy.conf and the
    proxy-user scope (shirley, diego) and refreshes the NameNode with a ticket, and Livy restarts to
    read livy.conf, as the role's handler does on a node. Module-scoped: Livy stops and the secure
    core-site.xml is put back (and reloaded) when the module that asked is done.
    """
    from fixtures_livy import livy_rig
    from playbook import local_play, run_playbook

    with kerberos.core_site_restored(), livy_rig(kerberos.hadoop, 'local') as livy:
        play = local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
            'name': 'datalake.notebooks.livy_impersonation'}}])
        run = run_playbook(play, extra_vars=kerberos.role_variables(livy.conf_path, ['shirley', 'diego']),
                           env={'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3'})
        if run.rc != 0:
            pytest.fail('the role did not apply to the secure Livy:\n%s\n%s' % (run.stdout[-8000:], run.stderr[-3000:]),
                        pytrace=False)
        livy.restart()
        yield livy
