"""The role on the secure rig: its Kerberos settings, proven against a real KDC and a kerberized HDFS.

Before the role, the NameNode refuses to let `livy` (with its own ticket) act as a notebook user;
after it, homes exist (made with the HDFS superuser's ticket from its keytab), the proxy-user
refresh ran with that ticket, and `livy` may act as exactly the notebook users. livy.conf has the
launch and SPNEGO keys, each user's sparkmagic config says auth=Kerberos, and no ticket cache is left.
"""

from __future__ import annotations

import glob
import json
import os
import shutil

import pytest

from playbook import REPO_ROOT, local_play, run_playbook

LIVY_TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
USERS = ['diego', 'shirley']
# Homes of this test's own (the secure Livy's role run makes /user/<user>); made by the role.
HOME_BASE = '/krb-role-homes'
# The handlers become hdfs, who cannot run the test suite's own Python: the system one, as on a
# Debian master node. Debian has no requests-gssapi package, so the homes go through the cli backend.
ENV = {'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3'}


@pytest.fixture
def secure_conf(kerberos):
    """The secure rig's core-site.xml as it was, loaded; restored (and reloaded) afterwards."""
    with kerberos.core_site_restored():
        kerberos.refresh_proxy_users()
        yield kerberos


def role_vars(kerberos, tmp_path):
    return dict(kerberos.role_variables(str(tmp_path / 'livy.conf'), USERS), **{
        'livy_impersonation_hdfs_home_base': HOME_BASE,
        'livy_impersonation_sparkmagic_config': True,
        'livy_impersonation_sparkmagic_home_base': str(tmp_path / 'home'),
        'livy_impersonation_sparkmagic_set_owner': False,
        'livy_impersonation_sparkmagic_livy_url': 'http://%s:8998' % kerberos.host,
    })


def role_play():
    return local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
        'name': 'datalake.notebooks.livy_impersonation'}}])


def livy_as(kerberos, user, path='/user'):
    """`hdfs dfs -ls -d PATH` by livy with its own ticket, acting as `user` (RPC impersonation)."""
    with kerberos.ticket('livy/', keytab=kerberos.keytab('livy')) as env:
        return kerberos.hdfs('dfs', '-ls', '-d', path, env=env, proxy_user=user)


def caches():
    return set(glob.glob('/tmp/livy-impersonation-krb5cc-*')) | set(glob.glob('/tmp/datalake-krb5cc-*'))


def test_role_on_a_kerberized_cluster(secure_conf, tmp_path):
    kerberos = secure_conf
    shutil.copy(LIVY_TEMPLATE, tmp_path / 'livy.conf')
    for user in USERS:
        (tmp_path / 'home' / user).mkdir(parents=True)
    before = livy_as(kerberos, 'shirley')
    assert before.returncode != 0 and 'is not allowed to impersonate shirley' in before.stderr, before.stderr
    left = caches()

    run = run_playbook(role_play(), extra_vars=role_vars(kerberos, tmp_path), env=ENV)
    assert run.rc == 0, run.stdout[-8000:] + run.stderr[-3000:]
    homes = run.task('Each notebook user has an HDFS home directory only they can write')
    assert homes['changed'] and sorted(homes['created_users']) == USERS
    assert run.task("HDFS proxy-user settings are refreshed")['rc'] == 0

    # Independent checks: the NameNode, Livy's Java properties, the files on disk.
    with kerberos.ticket('hdfs/') as env:
        listing = kerberos.hdfs('dfs', '-ls', HOME_BASE, env=env, check=True).stdout
    for user in USERS:
        assert ' %s ' % user in listing and '%s/%s' % (HOME_BASE, user) in listing
    assert livy_as(kerberos, 'shirley').returncode == 0
    refused = livy_as(kerberos, 'hdfs')
    assert refused.returncode != 0 and 'is not allowed to impersonate hdfs' in refused.stderr
    conf = (tmp_path / 'livy.conf').read_text()
    for key, value in (('livy.impersonation.enabled', 'true'),
                       ('livy.server.launch.kerberos.principal', kerberos.principal('livy/')),
                       ('livy.server.launch.kerberos.keytab', kerberos.keytab('livy')),
                       ('livy.server.auth.type', 'kerberos'),
                       ('livy.server.auth.kerberos.principal', kerberos.principal('HTTP/')),
                       ('livy.server.auth.kerberos.keytab', kerberos.keytab('livy-http'))):
        assert '%s = %s' % (key, value) in conf, (key, conf)
    for user in USERS:
        config = json.loads((tmp_path / 'home' / user / '.sparkmagic' / 'config.json').read_text())
        assert config['kernel_python_credentials']['auth'] == 'Kerberos'
        assert config['session_configs']['proxyUser'] == user
    assert caches() == left

    again = run_playbook(role_play(), extra_vars=role_vars(kerberos, tmp_path), env=ENV)
    assert again.rc == 0 and again.changed == 0, again.stdout[-5000:]


def test_role_refuses_incomplete_kerberos_settings(kerberos, tmp_path):
    variables = dict(role_vars(kerberos, tmp_path), livy_impersonation_kerberos_spnego_keytab='')
    run = run_playbook(role_play(), extra_vars=variables, env=ENV)
    assert run.rc != 0
    assert 'with livy_impersonation_kerberos, each of the principals and keytabs is needed' in run.stdout
