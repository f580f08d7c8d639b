"""playbooks/site.yml against a fleet: two clusters in one inventory, each with its own real hub and NameNode.

Cluster a has two master hosts (a1, a2) and the session's hub and Hadoop rig; cluster b has one host
(b1) and a hub and NameNode of its own, started here. All three hosts are this machine, reached with
the local connection, each with its own copy of the config files. The test proves that every
cluster reads its own hub once, gets its own users in its own files and its own homes on its own
NameNode, and that a failing cluster leaves the other one configured and is named at the end.
"""

from __future__ import annotations

import os
import shutil
import sys

import pytest
import yaml

from fixtures_hadoop import hadoop_rig
from fixtures_jupyterhub import _start_hub
from playbook import REPO_ROOT, run_playbook

LIVY_TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
FILES = os.path.join(REPO_ROOT, 'tests', 'integration', 'files')
HOME_BASE = '/fleet-homes'
USERS = {'a': ['fleet-ann', 'fleet-abe'], 'b': ['fleet-bea', 'fleet-bob']}
SITE = os.path.join(REPO_ROOT, 'playbooks', 'site.yml')
# site.yml becomes root; the test already is root, and su needs no password for it.
BECOME = {'ANSIBLE_BECOME_METHOD': 'su', 'ANSIBLE_BECOME_FLAGS': '-s /bin/sh'}


@pytest.fixture(scope='module')
def hadoop_b():
    """A second NameNode and DataNode (no YARN): cluster b's own HDFS."""
    with hadoop_rig('--no-yarn', what='the second Hadoop rig') as rig:
        yield rig


@pytest.fixture(scope='module')
def hub_b(request, tmp_path_factory):
    return _start_hub(request, tmp_path_factory, 'jupyterhub-b')


@pytest.fixture(scope='module')
def fleet(hadoop, jupyterhub, hadoop_b, hub_b, tmp_path_factory):
    jupyterhub.create_users(USERS['a'])
    hub_b.create_users(USERS['b'])
    root = tmp_path_factory.mktemp('fleet')
    clusters = {'a': (hadoop, jupyterhub), 'b': (hadoop_b, hub_b)}
    hosts = {}
    for host, cluster in (('a1', 'a'), ('a2', 'a'), ('b1', 'b')):
        conf = root / host
        conf.mkdir()
        shutil.copy(LIVY_TEMPLATE, conf / 'livy.conf')
        shutil.copy(os.path.join(FILES, 'core-site.xml'), conf / 'core-site.xml')
        rig, hub = clusters[cluster]
        hosts[host] = {
            'ansible_connection': 'local',
            'ansible_python_interpreter': sys.executable,
            'livy_impersonation_cluster': 'emr-' + cluster,
            'livy_impersonation_livy_conf_path': str(conf / 'livy.conf'),
            'livy_impersonation_core_site_path': str(conf / 'core-site.xml'),
            'livy_impersonation_hdfs_site_path': str(conf / 'hdfs-site.xml'),
            'livy_impersonation_jupyterhub_url': hub.url,
            'livy_impersonation_jupyterhub_api_token': hub.readonly_token,
            'livy_impersonation_hdfs_namenode_url': [rig.webhdfs_url],
        }
    inventory = root / 'inventory.yml'
    common = {
        'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
        'livy_impersonation_proxyuser_apply': 'none',
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_backup': False,
        'livy_impersonation_hdfs_home_base': HOME_BASE,
    }
    inventory.write_text(yaml.safe_dump({'fleet': {'hosts': hosts, 'vars': common}}))
    return {'root': root, 'inventory': str(inventory), 'rigs': clusters, 'hosts': hosts}


def site(fleet, **extra):
    return run_playbook(SITE, inventory=fleet['inventory'], env=BECOME,
                        extra_vars=dict({'livy_impersonation_hosts': 'fleet'}, **extra))


def proxy_users(fleet, host):
    text = (fleet['root'] / host / 'core-site.xml').read_text()
    marker = '<name>hadoop.proxyuser.livy.users</name>'
    value = text[text.index(marker):].split('<value>', 1)[1].split('</value>', 1)[0]
    return set(value.split(','))


def homes(rig):
    status, body = rig.webhdfs('GET', HOME_BASE, 'LISTSTATUS')
    assert status == 200, body
    return {entry['pathSuffix'] for entry in body['FileStatuses']['FileStatus']}


def test_each_cluster_gets_its_own_hub_users_files_and_homes(fleet):
    run = site(fleet)
    assert run.rc == 0, run.stdout[-8000:] + run.stderr[-3000:]
    # One hub read per cluster, by its first host.
    reads = {host: run.task('Notebook users are read from JupyterHub', host=host) for host in ('a1', 'a2', 'b1')}
    assert not reads['a1'].get('skipped') and not reads['b1'].get('skipped')
    assert reads['a2'].get('skipped'), 'the second host of cluster a read the hub again'
    for host in ('a1', 'a2'):
        users = proxy_users(fleet, host)
        assert set(USERS['a']) <= users and not users & set(USERS['b']), users
    users = proxy_users(fleet, 'b1')
    assert users == set(USERS['b']), users
    rig_a, rig_b = fleet['rigs']['a'][0], fleet['rigs']['b'][0]
    assert set(USERS['a']) <= homes(rig_a) and not homes(rig_a) & set(USERS['b'])
    assert homes(rig_b) == set(USERS['b'])
    # HDFS work once per cluster too.
    assert run.task("HDFS homes are made with the node's Python", host='a2').get('skipped')

    again = site(fleet)
    assert again.rc == 0, again.stdout[-8000:]
    assert sum(again.stats(host).get('changed', 0) for host in ('a1', 'a2', 'b1')) == 0


def test_a_failing_cluster_leaves_the_other_configured_and_is_named(fleet):
    hub_b = fleet['rigs']['b'][1]
    hub_b.create_users(['fleet-bee'])
    inventory = yaml.safe_load(open(fleet['inventory']))
    for host in ('a1', 'a2'):
        inventory['fleet']['hosts'][host]['livy_impersonation_jupyterhub_api_token'] = 'not-a-valid-token'
    broken = fleet['root'] / 'inventory-broken.yml'
    broken.write_text(yaml.safe_dump(inventory))
    run = run_playbook(SITE, inventory=str(broken), env=BECOME, callback='ansible.builtin.default',
                       extra_vars={'livy_impersonation_hosts': 'fleet'})
    assert run.rc != 0
    # Cluster b went on: its new hub user is in its file and has a home.
    assert 'fleet-bee' in proxy_users(fleet, 'b1')
    assert 'fleet-bee' in homes(fleet['rigs']['b'][0])
    assert 'fleet-bee' not in proxy_users(fleet, 'a1')
    # The failed cluster is named, both of its hosts with it.
    assert 'Not configured, a master node failed' in run.stdout, run.stdout[-5000:]
    summary = run.stdout[run.stdout.index('Not configured, a master node failed'):].split('\n', 3)
    summary = ' '.join(summary[:3])
    assert 'a1 (cluster emr-a), a2 (cluster emr-a).' in summary, summary
    assert 'b1' not in summary, summary
