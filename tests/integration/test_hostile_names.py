"""User and group names Hadoop or a command line would read as something else, end to end.

Hadoop 3.3.6 reads hadoop.proxyuser.<livy>.users with AccessControlList ("*" alone is every user)
after Configuration.substituteVars (${user.name} is the NameNode's own OS user), and hdfs dfs reads
an argument starting with "-" as an option. The hostile names are made real: users of the real
JupyterHub (6.1.1 creates them through its API), and the module runs against the real NameNode,
whose listing and audit log show that nothing was written.
"""

from __future__ import annotations

import sys

import pytest

from playbook import local_play, run_playbook
from test_hdfs_homedir import audit_since, backend_args, listing, make_base, run, task

HOSTILE_USERS = {
    '*': 'is "*", which Hadoop reads as "every user"',
    '${user.name}': 'contains "${", which Hadoop expands as a variable',
    '${env.hadoop_user-': 'contains "${", which Hadoop expands as a variable',
    '-r': 'starts with "-", which commands read as an option',
}


def test_hub_users_hadoop_reads_specially_are_invalid_users(jupyterhub):
    names = sorted(HOSTILE_USERS)
    jupyterhub.create_users(names + ['plain-neighbour'])
    try:
        # The hub itself takes every one of these names.
        assert set(names) <= set(jupyterhub.user_names())
        result = run_playbook(local_play([{
            'name': 'read', 'datalake.notebooks.jupyterhub_users': {
                'url': jupyterhub.url, 'api_token': jupyterhub.readonly_token}}]),
            env={'ANSIBLE_PYTHON_INTERPRETER': sys.executable})
        assert result.rc == 0, result.stdout + result.stderr
        out = result.task('read')
        invalid = dict((item['name'], item['reason']) for item in out['invalid_users'])
        for name, reason in HOSTILE_USERS.items():
            assert invalid[name] == reason
        assert 'plain-neighbour' not in invalid and 'plain-neighbour' in out['users']
        warning = ' '.join(out['warnings'])
        assert "'*' is \"*\"" in warning and "'${user.name}' contains" in warning
        assert jupyterhub.readonly_token not in result.stdout + result.stderr
    finally:
        jupyterhub.delete_users(names + ['plain-neighbour'])
    assert not set(names) & set(jupyterhub.user_names())


@pytest.mark.parametrize('backend', ('webhdfs', 'cli'))
def test_hdfs_homedir_refuses_hostile_names_before_any_request(hadoop, backend):
    base = '/hostile-names-%s' % backend
    make_base(hadoop, base)
    audited = len(hadoop.audit_log())
    names = sorted(HOSTILE_USERS)
    result = run([dict(task('homes', users=['fine'] + names, base=base, **backend_args(hadoop, backend)),
                       ignore_errors=True),
                  dict(task('owner', users=['fine'], owner='-R', base=base, **backend_args(hadoop, backend)),
                       ignore_errors=True)], hadoop)
    out = result.task('homes')
    assert out['failed'] is True
    assert out['msg'].startswith('Invalid user name(s) in users: ')
    assert dict((item['name'], item['reason']) for item in out['invalid_users']) == HOSTILE_USERS
    assert 'requests' not in out
    owner = result.task('owner')
    assert owner['failed'] is True
    assert owner['msg'] == "Invalid owner '-R': it starts with \"-\", which commands read as an option."
    # The NameNode saw nothing under the base, and nothing is there.
    assert audit_since(hadoop, audited, base) == []
    assert listing(hadoop, base) == {}


PROXYUSER = "{{ 'livy' | datalake.notebooks.proxyuser_properties(%s) }}"


def test_proxyuser_filter_refuses_the_superuser_group_and_hosts_hadoop_cannot_read():
    tasks = [
        {'name': name, 'ansible.builtin.set_fact': {'scope': PROXYUSER % args}, 'ignore_errors': True,
         'vars': {'with_newline': 'analysts\nsupergroup'}}
        for name, args in (
            ('default superuser group', "hosts=['m1'], groups=['analysts', 'supergroup']"),
            ('emr superuser group', "hosts=['m1'], groups=['hadoop'], hdfs_superusergroup='hadoop'"),
            ('group with a newline', "hosts=['m1'], groups=[with_newline]"),
            ('ipv6 range', "hosts=['::/0'], users=['shirley']"),
            ('every address', "hosts=['0.0.0.0/0'], users=['shirley']"),
        )
    ]
    result = run_playbook(local_play(tasks))
    assert result.rc == 0, result.stdout + result.stderr
    assert ('proxyuser_groups must not contain supergroup: it is the HDFS superuser group'
            in result.task('default superuser group')['msg'])
    assert ('proxyuser_groups must not contain hadoop: it is the HDFS superuser group'
            in result.task('emr superuser group')['msg'])
    assert ("'analysts\\nsupergroup' contains a control character (U+000A)"
            in result.task('group with a newline')['msg'])
    assert "'::/0' is an IPv6 range" in result.task('ipv6 range')['msg']
    every = result.task('every address')
    assert every.get('failed') is not True
    assert every['ansible_facts']['scope']['present']['hadoop.proxyuser.livy.hosts'] == '0.0.0.0/0'
    assert any('covers every IPv4 address, the same as "*"' in warning for warning in every['warnings'])
