"""EMR's layout: the hub's users are accounts of the hub's container, their homes its /home.

A real container (the locally built base image, tests/images/build --base: never pulled) runs with a
temporary directory of this host bind-mounted as its /home, as EMR's `jupyterhub` container has the
master node's /var/lib/jupyter/home. os_users makes the accounts inside it; sparkmagic_config writes
their files into that directory from the host, owned by the ids the container gives them. Each
result is read back the way the user's notebook reads it: inside the container, as that user.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import uuid

import pytest

from playbook import FOUR_WAYS, REPO_ROOT, local_play, run_playbook

USERS = ['dnhc-ann', 'dnhc-ben']
CONFIG = {'kernel_python_credentials': {'url': 'http://master-1.example.internal:8998', 'auth': 'None',
                                        'username': '', 'password': ''},
          'session_configs': {'driverMemory': '1g'}}


def sh(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, **kwargs)


def getent(name, container=None):
    proc = sh((['docker', 'exec', container] if container else []) + ['getent', 'passwd', name])
    return proc.stdout.strip().split(':') if proc.returncode == 0 else None


def remove_host_users():
    for name in USERS + ['dnhc-mal', 'dnhc-eve']:
        sh(['userdel', name])


@pytest.fixture(scope='module')
def hub(tmp_path_factory):
    """(container name, host path of its /home): a running container of the base image."""
    build = subprocess.run([os.path.join(REPO_ROOT, 'tests', 'images', 'build'), '--base'], capture_output=True,
                           text=True, timeout=1800, check=False)
    if build.returncode != 0:
        pytest.fail('tests/images/build --base failed:\n%s' % build.stderr[-5000:], pytrace=False)
    homes = tmp_path_factory.mktemp('hub-home')
    homes.chmod(0o755)  # as /home is: the container's users must reach their own homes
    name = 'dn-hub-container-%s' % uuid.uuid4().hex[:8]
    run = sh(['docker', 'run', '--detach', '--rm', '--name', name, '--volume', '%s:/home' % homes,
              build.stdout.strip(), 'sleep', '3600'])
    if run.returncode != 0:
        pytest.fail('the hub container did not start: %s' % run.stderr, pytrace=False)
    remove_host_users()
    yield name, homes
    sh(['docker', 'rm', '--force', name])
    remove_host_users()


def accounts_task(container, users):
    return {'name': 'accounts', 'datalake.notebooks.os_users': {
        'users': users, 'container': container, 'user_group': False}}


def sparkmagic_task(container, homes, users, **extra):
    return {'name': 'sparkmagic', 'datalake.notebooks.sparkmagic_config': dict(
        {'users': users, 'container': container, 'home_base': str(homes), 'config': CONFIG}, **extra)}


def four_ways(task):
    results = []
    for dummy, check in FOUR_WAYS:
        run = run_playbook(local_play([task]), check=check, diff=True)
        assert run.rc == 0, run.stdout[-3000:] + run.stderr
        results.append(run.task(task['name']))
    return results


def read_as(container, user, path):
    return sh(['docker', 'exec', '--user', user, container, 'cat', path])


def test_users_and_their_files_live_in_the_container(hub):
    container, homes = hub
    accounts = four_ways(accounts_task(container, USERS))
    assert [result['changed'] for result in accounts] == [True, True, False, False]
    assert accounts[1]['created'] == USERS
    entries = {}
    for name in USERS:
        entries[name] = getent(name, container)
        assert entries[name] is not None and entries[name][5] == '/home/%s' % name
        assert getent(name) is None, 'the account was made on the host'
        # The home the container made is on the host under its path, owned by the container's uid.
        assert (homes / name).stat().st_uid == int(entries[name][2])

    files = four_ways(sparkmagic_task(container, homes, USERS))
    assert [result['changed'] for result in files] == [True, True, False, False]
    assert files[1]['changed_users'] == USERS and files[3]['diff'] == []
    for name in USERS:
        path = homes / name / '.sparkmagic' / 'config.json'
        info, dir_info = path.stat(), path.parent.stat()
        uid, gid = int(entries[name][2]), int(entries[name][3])
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (uid, gid, 0o600)
        assert (dir_info.st_uid, dir_info.st_gid, stat.S_IMODE(dir_info.st_mode)) == (uid, gid, 0o700)
        # What the user's notebook reads, inside the container, as the user.
        mine = read_as(container, name, '/home/%s/.sparkmagic/config.json' % name)
        assert mine.returncode == 0, mine.stderr
        assert json.loads(mine.stdout)['session_configs'] == {'driverMemory': '1g', 'proxyUser': name}

    # Nobody else: the other notebook user in the container, and an unprivileged user of the host.
    other = read_as(container, USERS[1], '/home/%s/.sparkmagic/config.json' % USERS[0])
    assert other.returncode != 0 and 'Permission denied' in other.stderr
    host = sh(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'cat',
               str(homes / USERS[0] / '.sparkmagic' / 'config.json')])
    assert host.returncode != 0 and 'Permission denied' in host.stderr


def test_a_host_account_of_the_same_name_does_not_own_the_file(hub):
    container, homes = hub
    run_playbook(local_play([accounts_task(container, USERS[:1]), sparkmagic_task(container, homes, USERS[:1])]))
    in_container = getent(USERS[0], container)
    sh(['useradd', '--no-create-home', '--uid', '4242', '--shell', '/usr/sbin/nologin', USERS[0]])
    try:
        assert getent(USERS[0])[2] == '4242' != in_container[2]
        result = four_ways(sparkmagic_task(container, homes, USERS[:1]))
        assert [r['changed'] for r in result] == [False] * 4
        assert (homes / USERS[0] / '.sparkmagic' / 'config.json').stat().st_uid == int(in_container[2])
    finally:
        sh(['userdel', USERS[0]])


def snapshot(path):
    info = os.lstat(path)
    state = {'': (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), info.st_ino)}
    for name in sorted(os.listdir(path)):
        entry = os.lstat(os.path.join(path, name))
        state[name] = (entry.st_uid, entry.st_mode, entry.st_ino, entry.st_size)
    return state


def test_a_link_planted_in_the_container_is_not_followed_on_the_host(hub, tmp_path):
    container, homes = hub
    victim = tmp_path / 'victim'
    victim.mkdir()
    (victim / 'secret').write_text('root only\n')
    assert run_playbook(local_play([accounts_task(container, ['dnhc-mal'])])).rc == 0
    # mallory points her .sparkmagic at a directory of the host: a path that means nothing in the
    # container but is followed by whatever on the host opens it.
    planted = sh(['docker', 'exec', '--user', 'dnhc-mal', container, 'ln', '-s', str(victim),
                  '/home/dnhc-mal/.sparkmagic'])
    assert planted.returncode == 0, planted.stderr
    before = snapshot(victim)
    run = run_playbook(local_play([sparkmagic_task(container, homes, ['dnhc-mal', USERS[0]])]))
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task('sparkmagic')
    assert result['refused'] == [{'user': 'dnhc-mal', 'path': str(homes / 'dnhc-mal' / '.sparkmagic'),
                                  'reason': 'is a symbolic link'}]
    assert snapshot(victim) == before and not (victim / 'config.json').exists()


def test_an_account_whose_home_is_elsewhere_in_the_container_is_refused(hub):
    container, homes = hub
    made = sh(['docker', 'exec', container, 'useradd', '--no-create-home', '--home-dir', '/srv/dnhc-eve',
               'dnhc-eve'])
    assert made.returncode == 0, made.stderr
    uid = int(getent('dnhc-eve', container)[2])
    (homes / 'dnhc-eve').mkdir()
    os.chown(homes / 'dnhc-eve', uid, uid)
    run = run_playbook(local_play([sparkmagic_task(container, homes, ['dnhc-eve'])]))
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task('sparkmagic')
    assert result['changed'] is False and result['refused'][0]['user'] == 'dnhc-eve'
    assert '/srv/dnhc-eve' in result['refused'][0]['reason']
    assert os.listdir(homes / 'dnhc-eve') == []


def test_an_odd_gecos_field_does_not_confuse_the_account_list(hub):
    container, homes = hub
    assert run_playbook(local_play([accounts_task(container, USERS)])).rc == 0
    # U+2028 ends a line for str.splitlines(), not for the C library: a GECOS field may hold it.
    odd = sh(['docker', 'exec', container, 'usermod', '--comment', 'Ann\u2028dnhc-ben', USERS[0]])
    assert odd.returncode == 0, odd.stderr
    assert '\u2028' in getent(USERS[0], container)[4]
    result = four_ways(sparkmagic_task(container, homes, USERS))
    assert all(r['failed'] is False for r in result if 'failed' in r)
    assert result[3]['changed'] is False and result[3]['refused'] == []


@pytest.mark.parametrize('container, message', [
    ('dn-no-such-container', 'No such container'),
    ('-jupyterhub', 'must be a Docker container name'),
])
def test_a_container_that_cannot_be_read_fails_naming_it(container, message):
    for task in (accounts_task(container, USERS), sparkmagic_task(container, '/nonexistent', USERS)):
        run = run_playbook(local_play([dict(task, ignore_errors=True)]))
        result = run.task(task['name'])
        assert result['failed'] is True and container in result['msg'] and message in result['msg'], result['msg']


def role_run(tmp_path, container, homes, users, check=False, **extra):
    """The role with the hub in `container`: accounts and sparkmagic files only (no service touched)."""
    if not (tmp_path / 'livy.conf').exists():
        shutil.copy(os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template'), tmp_path / 'livy.conf')
        shutil.copy(os.path.join(REPO_ROOT, 'tests', 'integration', 'files', 'core-site.xml'), tmp_path / 'core-site.xml')
    variables = dict({
        'livy_impersonation_livy_conf_path': str(tmp_path / 'livy.conf'),
        'livy_impersonation_core_site_path': str(tmp_path / 'core-site.xml'),
        'livy_impersonation_users': users,
        'livy_impersonation_proxyuser_hosts': ['master-1.example.internal'],
        'livy_impersonation_hdfs_homedirs': False,
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_proxyuser_apply': 'none',
        'livy_impersonation_backup': False,
        'livy_impersonation_jupyterhub_container': container,
        'livy_impersonation_create_os_users': True,
        'livy_impersonation_sparkmagic_config': True,
        'livy_impersonation_sparkmagic_home_base': str(homes),
        'livy_impersonation_sparkmagic_livy_url': 'http://master-1.example.internal:8998',
    }, **extra)
    play = local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
        'name': 'datalake.notebooks.livy_impersonation'}}])
    return run_playbook(play, extra_vars=variables, check=check)


ACCOUNTS = "Notebook users exist as OS users (PAM-authenticated hubs)"
SPARKMAGIC = "Each notebook user's sparkmagic sessions run as that user (config.json)"


def test_the_role_makes_the_users_and_their_files_in_the_container(hub, tmp_path):
    container, homes = hub
    users = ['dnhc-rol1', 'dnhc-rol2']
    # Check mode on a node where the accounts are still to be made: reported, nothing made.
    check = role_run(tmp_path, container, homes, users, check=True)
    assert check.rc == 0, check.stdout[-3000:]
    assert check.task(ACCOUNTS)['created'] == users and getent(users[0], container) is None
    first = role_run(tmp_path, container, homes, users)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.task(ACCOUNTS)['created'] == users and first.task(SPARKMAGIC)['changed_users'] == users
    for name in users:
        entry = getent(name, container)
        # As the EMR guide makes them: useradd -m -s /bin/bash -N (the default group, users).
        assert entry[3] == '100' and entry[6] == '/bin/bash' and getent(name) is None
        mine = read_as(container, name, '/home/%s/.sparkmagic/config.json' % name)
        assert mine.returncode == 0 and json.loads(mine.stdout)['session_configs']['proxyUser'] == name
    for check in (True, False):
        again = role_run(tmp_path, container, homes, users, check=check)
        assert again.rc == 0 and again.changed == 0, again.stdout[-3000:]


def test_the_role_makes_no_account_in_the_container_for_a_refused_name(hub, tmp_path):
    container, homes = hub
    run = role_run(tmp_path, container, homes, ['dnhc-new', 'dnhc-super'],
                   livy_impersonation_hdfs_superuser='dnhc-super')
    assert run.rc != 0 and 'must not contain dnhc-super' in run.stdout
    assert getent('dnhc-new', container) is None and getent('dnhc-super', container) is None


def test_the_role_refuses_a_container_name_that_is_not_one(tmp_path):
    run = role_run(tmp_path, '--rm', tmp_path, ['dnhc-new'])
    assert run.rc != 0 and 'livy_impersonation_jupyterhub_container' in run.stdout
