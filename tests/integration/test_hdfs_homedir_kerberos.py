"""datalake.notebooks.hdfs_homedir on the secure rig: a real KDC, SPNEGO WebHDFS over HTTPS, the
cli backend with Hadoop's Kerberos login and the rpc backend with hdfs-native's GSSAPI, each with a
ticket the module gets itself from a keytab into a private cache.

What the module did is checked independently: `hdfs dfs -ls` with the HDFS superuser's own ticket,
and the NameNode's audit log (who did it, authenticated how).
"""

from __future__ import annotations

import glob
import os
import sys

import pytest

from playbook import local_play, run_playbook, task_four_ways

MODULE = 'datalake.notebooks.hdfs_homedir'
CLI_PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
BACKENDS = ('webhdfs', 'cli', 'rpc')


def backend_args(kerberos, backend, keytab='hdfs', principal='hdfs/'):
    hadoop = kerberos.hadoop
    args = {'kerberos': True}
    if keytab is not None:
        args.update(kerberos_keytab=kerberos.keytab(keytab), kerberos_principal=kerberos.principal(principal))
    if backend == 'webhdfs':
        args.update(namenode_url=[hadoop.env['NAMENODE_HTTP']], ca_path=hadoop.env['CA_PEM'])
    elif backend == 'rpc':
        # hdfs-native reads the NameNode's principal (dfs.namenode.kerberos.principal) from the site files.
        args.update(backend='rpc', namenode_url=[hadoop.env['NAMENODE_RPC']], hadoop_conf_dir=hadoop.conf_dir)
    else:
        args.update(backend='cli', hdfs_bin=hadoop.home + '/bin/hdfs', hadoop_conf_dir=hadoop.conf_dir)
    return args


def run(kerberos, tasks, backend, env=None):
    run_env = {'ANSIBLE_PYTHON_INTERPRETER': CLI_PYTHON if backend == 'cli' else sys.executable,
               'JAVA_HOME': kerberos.hadoop.env['JAVA_HOME'], 'KRB5_CONFIG': kerberos.krb5_conf}
    run_env.update(env or {})
    return run_playbook(local_play(tasks), env=run_env)


def private_caches():
    return set(glob.glob('/tmp/datalake-krb5cc-*'))


def hdfs_listing(kerberos, base):
    """name -> (permission string, owner, group) from `hdfs dfs -ls`, as the HDFS superuser."""
    with kerberos.ticket('hdfs/') as env:
        proc = kerberos.hdfs('dfs', '-ls', base, env=env, check=True)
    found = {}
    for line in proc.stdout.splitlines():
        parts = line.split(None, 7)
        if len(parts) == 8:
            found[parts[7].rsplit('/', 1)[1]] = (parts[0], parts[2], parts[3])
    return found


def make_base(kerberos, base):
    with kerberos.ticket('hdfs/') as env:
        kerberos.hdfs('dfs', '-mkdir', '-p', base, env=env, check=True)


@pytest.mark.parametrize('backend', BACKENDS)
def test_homes_are_created_and_fixed_with_a_ticket_from_the_keytab_four_ways(kerberos, backend):
    base = '/krb-homes-%s' % backend
    make_base(kerberos, base)
    with kerberos.ticket('hdfs/') as env:
        # diego's home exists with a wrong mode and owner: the run fixes it.
        kerberos.hdfs('dfs', '-mkdir', base + '/diego', env=env, check=True)
        kerberos.hdfs('dfs', '-chmod', '777', base + '/diego', env=env, check=True)
    caches = private_caches()
    audit_start = len(kerberos.hadoop.audit_log())
    args = dict(backend_args(kerberos, backend), users=['shirley', 'diego'], base=base, group='hadoop')
    check, apply, check_again, apply_again = task_four_ways({MODULE: args}, lambda tasks: run(kerberos, tasks, backend))
    assert check['changed'] and check['created_users'] == ['shirley'] and check['fixed_users'] == ['diego']
    assert apply['changed'] and apply['created_users'] == ['shirley'] and apply['fixed_users'] == ['diego']
    assert not check_again['changed'] and check_again['unchanged'] == 2
    assert not apply_again['changed'] and apply_again['unchanged'] == 2
    assert hdfs_listing(kerberos, base) == {'shirley': ('drwxr-x---', 'shirley', 'hadoop'),
                                            'diego': ('drwxr-x---', 'diego', 'hadoop')}
    # The NameNode saw the HDFS superuser's Kerberos identity, over the backend's own protocol.
    writes = [record for record in kerberos.hadoop.audit_log()[audit_start:]
              if record['cmd'] in ('mkdirs', 'setOwner', 'setPermission') and record['src'].startswith(base + '/')]
    # (WebHDFS logs the short name, RPC the principal; both are the superuser hdfs.)
    assert writes and {record['ugi'] for record in writes} == \
        {'hdfs' if backend == 'webhdfs' else kerberos.principal('hdfs/')}
    assert {record['proto'] for record in writes} == {'webhdfs' if backend == 'webhdfs' else 'rpc'}
    # Each run's private ticket cache is gone.
    assert private_caches() == caches


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('keytab, principal, meaning', [
    ('stale-hdfs', 'hdfs/', 'does not hold the current key'),
    ('shirley', 'hdfs/', 'has no key for'),
    ('expired', 'expired', 'has expired in the KDC'),
    ('missing', 'hdfs/', 'does not exist'),
])
def test_a_wrong_keytab_fails_clearly_before_hdfs_is_asked(kerberos, backend, keytab, principal, meaning):
    base = '/krb-wrong-keytab-%s-%s' % (backend, keytab)
    audit_start = len(kerberos.hadoop.audit_log())
    args = dict(backend_args(kerberos, backend, keytab=keytab, principal=principal), users=['shirley'], base=base)
    result = run(kerberos, [{'name': 'homes', MODULE: args, 'ignore_errors': True}], backend)
    outcome = result.task('homes')
    assert outcome['failed'], outcome
    assert meaning in outcome['msg']
    assert kerberos.principal(principal) in outcome['msg'] or 'kerberos_keytab' in outcome['msg']
    assert not [record for record in kerberos.hadoop.audit_log()[audit_start:] if record['src'].startswith(base)]


@pytest.mark.parametrize('backend', BACKENDS)
def test_no_ticket_fails_clearly(kerberos, backend, tmp_path):
    args = dict(backend_args(kerberos, backend, keytab=None), users=['shirley'], base='/krb-no-ticket')
    empty = {'KRB5CCNAME': 'FILE:%s' % (tmp_path / 'no-such-cache')}
    result = run(kerberos, [{'name': 'homes', MODULE: args, 'ignore_errors': True}], backend, env=empty)
    outcome = result.task('homes')
    assert outcome['failed'], outcome
    if backend == 'webhdfs':
        assert outcome['msg'] == (
            '%s refused the request (HTTP 401: Error 401 Authentication required): no Kerberos ticket was '
            'accepted. The credential cache holds no valid ticket (give kerberos_keytab and kerberos_principal, '
            'or kinit first), or the NameNode\'s HTTP/ principal is not the one of the host name in namenode_url.'
            % kerberos.hadoop.env['NAMENODE_HTTP'])
    elif backend == 'rpc':
        assert outcome['msg'].startswith('HDFS LISTSTATUS /krb-no-ticket: Kerberos (GSSAPI) authentication failed: '
                                         'No credentials were supplied'), outcome['msg']
        assert 'Give kerberos_keytab and kerberos_principal' in outcome['msg']
    else:
        assert 'no Kerberos ticket' in outcome['msg'], outcome['msg']


def test_a_keytab_without_kerberos_is_refused(kerberos):
    args = dict(backend_args(kerberos, 'webhdfs'), users=['shirley'], kerberos=False)
    result = run(kerberos, [{'name': 'homes', MODULE: args, 'ignore_errors': True}], 'webhdfs')
    assert result.task('homes')['msg'] == 'kerberos_keytab and kerberos_principal need kerberos=true'
