"""os_users against this host's real account database and inside a real container.

The container is the sandbox master image (tests/images/build, built without a registry) running a
plain `sleep`: the same account tools EMR's JupyterHub container has (useradd, getent).
"""

from __future__ import annotations

import os
import subprocess
import uuid

import pytest

from playbook import FOUR_WAYS, REPO_ROOT, local_play, run_playbook

HOST_USERS = ['dnos-ann', 'dnos-ben']


def getent(name, container=None):
    prefix = ['docker', 'exec', container] if container else []
    proc = subprocess.run(prefix + ['getent', 'passwd', name], capture_output=True, text=True, check=False)
    return proc.stdout.strip().split(':') if proc.returncode == 0 else None


def task(**args):
    return {'name': 'accounts', 'datalake.notebooks.os_users': args}


@pytest.fixture
def host_users():
    def remove():
        for name in HOST_USERS + ['dnos-bad']:
            subprocess.run(['userdel', '--remove', name], capture_output=True, check=False)
    remove()
    yield HOST_USERS
    remove()


def test_four_ways_on_the_host(host_users):
    results = []
    for step, check in FOUR_WAYS:
        run = run_playbook(local_play([task(users=host_users)]), check=check, diff=True)
        assert run.rc == 0, run.stdout[-3000:] + run.stderr
        results.append(run.task('accounts'))
        if step == 'check':
            assert getent(host_users[0]) is None, 'check mode created an account'
    assert [result['changed'] for result in results] == [True, True, False, False]
    assert results[0]['created'] == sorted(host_users) and results[2]['created'] == []
    for name in host_users:
        entry = getent(name)
        assert entry is not None and entry[6] == '/bin/bash'
        assert os.path.isdir(entry[5]), 'no home directory for %s' % name


def test_an_invalid_name_fails_before_any_account_is_made(host_users):
    run = run_playbook(local_play([dict(task(users=[host_users[0], '-dnos-bad']), ignore_errors=True)]))
    result = run.task('accounts')
    assert result['failed'] is True and "'-dnos-bad'" in result['msg']
    assert getent(host_users[0]) is None


@pytest.fixture(scope='module')
def container():
    build = subprocess.run([os.path.join(REPO_ROOT, 'tests', 'images', 'build')], capture_output=True, text=True,
                           timeout=1800, check=False)
    if build.returncode != 0:
        pytest.fail('tests/images/build failed:\n%s' % build.stderr[-5000:], pytrace=False)
    name = 'dn-os-users-%s' % uuid.uuid4().hex[:8]
    run = subprocess.run(['docker', 'run', '-d', '--rm', '--name', name, build.stdout.strip(), 'sleep', '3600'],
                         capture_output=True, text=True, timeout=120, check=False)
    if run.returncode != 0:
        pytest.fail('the container did not start: %s' % run.stderr, pytrace=False)
    yield name
    subprocess.run(['docker', 'rm', '-f', name], capture_output=True, timeout=120, check=False)


def test_accounts_are_made_inside_the_container_not_on_the_host(container, host_users):
    args = dict(users=['dnos-ann', 'dnos-cat'], container=container, user_group=False)
    first = run_playbook(local_play([task(**args)]))
    assert first.rc == 0, first.stdout[-3000:]
    assert first.task('accounts')['created'] == ['dnos-ann', 'dnos-cat']
    for name in args['users']:
        entry = getent(name, container)
        assert entry is not None, name
        # -N as in the EMR guide: the default group (users, gid 100), no group per user.
        assert entry[3] == '100' and entry[5] == '/home/%s' % name
        assert getent(name) is None, 'the account was made on the host'
    again = run_playbook(local_play([task(**args)]))
    assert again.rc == 0 and again.task('accounts')['changed'] is False


def test_a_container_that_is_not_running_fails_clearly():
    run = run_playbook(local_play([dict(task(users=['dnos-ann'], container='dn-no-such-container'),
                                        ignore_errors=True)]))
    result = run.task('accounts')
    assert result['failed'] is True and 'dn-no-such-container' in result['msg']
