"""sparkmagic_config against real OS users and real home directories, hostile ones included.

The module runs as root. Each hostile case plants what a notebook user can plant in their own home (a
symbolic link, a hard link, a FIFO, a directory handed to someone else) and then checks, with stat
before and after, that nothing outside that user's own files changed.
"""

from __future__ import annotations

import json
import os
import pwd
import stat
import subprocess

import pytest
import requests

from playbook import FOUR_WAYS, local_play, run_playbook

PREFIX = 'dnsm'
CONFIG = {'kernel_python_credentials': {'url': 'http://master-1.example.internal:8998', 'auth': 'None',
                                        'username': '', 'password': ''},
          'session_configs': {'driverMemory': '1g', 'proxyUser': 'somebody-else'}}


def _useradd(name, home):
    subprocess.run(['userdel', name], capture_output=True, check=False)
    subprocess.run(['useradd', '--no-create-home', '--home-dir', home, '--shell', '/usr/sbin/nologin', name],
                   check=True, capture_output=True)


@pytest.fixture
def homes(tmp_path):
    """BASE with real OS users PREFIX-alice, -bob, -mallory, each owning their home (0750)."""
    base = tmp_path / 'home'
    base.mkdir()
    users = {}
    for short in ('alice', 'bob', 'mallory'):
        name = '%s-%s' % (PREFIX, short)
        home = base / name
        _useradd(name, str(home))
        entry = pwd.getpwnam(name)
        home.mkdir()
        os.chown(home, entry.pw_uid, entry.pw_gid)
        home.chmod(0o750)
        users[short] = (name, entry)
    yield base, users
    for name, dummy in users.values():
        subprocess.run(['userdel', name], capture_output=True, check=False)


@pytest.fixture
def victim(tmp_path):
    """A root-owned directory with a root-only file: what an attacker points a link at."""
    directory = tmp_path / 'victim'
    directory.mkdir()
    directory.chmod(0o755)
    secret = directory / 'secret'
    secret.write_text('root only\n')
    secret.chmod(0o600)
    return directory


def snapshot(path):
    """Owner, mode, inode and content of a path and, for a directory, of every entry in it (no link followed)."""
    info = os.lstat(path)
    state = {'': (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode), info.st_ino)}
    if stat.S_ISDIR(info.st_mode):
        for name in sorted(os.listdir(path)):
            entry = os.lstat(os.path.join(path, name))
            content = open(os.path.join(path, name), 'rb').read() if stat.S_ISREG(entry.st_mode) else None
            state[name] = (entry.st_uid, entry.st_gid, stat.S_IMODE(entry.st_mode), entry.st_ino, content)
    else:
        state['content'] = open(path, 'rb').read()
    return state


def task(base, users, **extra):
    return {'name': 'sparkmagic', 'datalake.notebooks.sparkmagic_config': dict(
        {'users': users, 'home_base': str(base), 'config': CONFIG}, **extra)}


def run(base, users, check=False, diff=False, **extra):
    result = run_playbook(local_play([task(base, users, **extra)]), check=check, diff=diff)
    assert result.rc == 0, result.stdout[-4000:] + result.stderr
    return result.task('sparkmagic')


def config_path(base, name):
    return base / name / '.sparkmagic' / 'config.json'


def test_four_ways_files_owned_by_each_user(homes):
    base, users = homes
    names = [users['alice'][0], users['bob'][0]]
    results = []
    for step, check in FOUR_WAYS:
        results.append(run(base, names, check=check, diff=True))
        if step == 'check':
            assert not config_path(base, names[0]).parent.exists(), 'check mode wrote a directory'
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert sorted(results[0]['changed_users']) == sorted(names)
    assert results[2]['changed_users'] == [] and results[3]['diff'] == []
    for short in ('alice', 'bob'):
        name, entry = users[short]
        path = config_path(base, name)
        data = json.loads(path.read_text())
        # proxyUser is the file's user, whatever the given config said.
        assert data['session_configs'] == {'driverMemory': '1g', 'proxyUser': name}
        assert data['kernel_python_credentials']['url'] == 'http://master-1.example.internal:8998'
        info, dir_info = path.stat(), path.parent.stat()
        assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (entry.pw_uid, entry.pw_gid, 0o600)
        assert (dir_info.st_uid, stat.S_IMODE(dir_info.st_mode)) == (entry.pw_uid, 0o700)
    assert '"proxyUser": "%s"' % names[0] in results[1]['diff'][0]['after']


def test_wrong_mode_and_owner_are_corrected_through_a_new_file(homes):
    base, users = homes
    name, entry = users['alice']
    run(base, [name])
    path = config_path(base, name)
    path.chmod(0o644)
    os.chown(path, 0, 0)
    inode = path.stat().st_ino
    result = run(base, [name])
    assert result['changed_users'] == [name]
    info = path.stat()
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (entry.pw_uid, 0o600)
    assert info.st_ino != inode, 'the old inode was changed in place'


def test_symlinked_sparkmagic_dir_is_refused_and_its_target_untouched(homes, victim):
    base, users = homes
    mallory, alice = users['mallory'][0], users['alice'][0]
    os.symlink(str(victim), str(base / mallory / '.sparkmagic'))
    before = snapshot(victim)
    result = run(base, [alice, mallory])
    assert snapshot(victim) == before, 'the link target changed'
    assert not (victim / 'config.json').exists()
    assert result['refused'] == [{'user': mallory, 'path': str(base / mallory / '.sparkmagic'),
                                  'reason': 'is a symbolic link'}]
    assert any(mallory in warning and 'symbolic link' in warning for warning in result['warnings'])
    # The other users are still served.
    assert result['changed_users'] == [alice]
    assert os.path.islink(base / mallory / '.sparkmagic')


def test_symlinked_config_file_is_refused_and_its_target_untouched(homes, victim):
    base, users = homes
    mallory, entry = users['mallory']
    directory = base / mallory / '.sparkmagic'
    directory.mkdir(mode=0o700)
    os.chown(directory, entry.pw_uid, entry.pw_gid)
    os.symlink(str(victim / 'secret'), str(directory / 'config.json'))
    before = snapshot(victim)
    result = run(base, [mallory])
    assert snapshot(victim) == before
    assert result['refused'][0]['reason'] == 'is a symbolic link'
    assert result['refused'][0]['path'] == str(directory / 'config.json')
    assert os.path.islink(directory / 'config.json')


def test_hard_link_to_a_root_file_is_replaced_not_written_through(homes, victim):
    base, users = homes
    mallory, entry = users['mallory']
    directory = base / mallory / '.sparkmagic'
    directory.mkdir(mode=0o700)
    os.chown(directory, entry.pw_uid, entry.pw_gid)
    os.link(str(victim / 'secret'), str(directory / 'config.json'))
    before = snapshot(victim)
    result = run(base, [mallory])
    # The root file keeps its content, owner and mode; the user's entry is a new file of their own.
    assert snapshot(victim) == before
    assert result['changed_users'] == [mallory]
    info = (directory / 'config.json').stat()
    assert info.st_ino != before['secret'][3] and info.st_uid == entry.pw_uid and info.st_nlink == 1
    assert json.loads((directory / 'config.json').read_text())['session_configs']['proxyUser'] == mallory


def test_fifo_in_place_of_the_file_is_refused_without_hanging(homes):
    base, users = homes
    mallory, entry = users['mallory']
    directory = base / mallory / '.sparkmagic'
    directory.mkdir(mode=0o700)
    os.chown(directory, entry.pw_uid, entry.pw_gid)
    os.mkfifo(str(directory / 'config.json'))
    result = run(base, [mallory])
    assert result['refused'][0]['reason'] == 'is not a regular file'
    assert stat.S_ISFIFO(os.lstat(directory / 'config.json').st_mode)


def test_directory_of_another_user_is_refused(homes):
    base, users = homes
    mallory = users['mallory'][0]
    bob = users['bob'][1]
    directory = base / mallory / '.sparkmagic'
    directory.mkdir(mode=0o755)
    os.chown(directory, bob.pw_uid, bob.pw_gid)
    before = snapshot(directory)
    result = run(base, [mallory])
    assert snapshot(directory) == before
    assert result['refused'][0]['path'] == str(directory)
    assert 'belongs to uid %d' % bob.pw_uid in result['refused'][0]['reason']


def test_home_of_another_user_is_refused(homes):
    base, users = homes
    mallory = users['mallory'][0]
    bob = users['bob'][1]
    os.chown(base / mallory, bob.pw_uid, bob.pw_gid)
    result = run(base, [mallory])
    assert result['refused'][0]['path'] == str(base / mallory)
    assert not (base / mallory / '.sparkmagic').exists()


def test_symlinked_home_is_refused(homes, victim):
    base, users = homes
    alice = users['alice'][0]
    (base / alice).rmdir()
    os.symlink(str(victim), str(base / alice))
    before = snapshot(victim)
    result = run(base, [alice])
    assert snapshot(victim) == before
    assert result['refused'][0]['reason'] == 'is a symbolic link'


def test_missing_home_is_reported_and_not_created(homes):
    base, users = homes
    alice = users['alice'][0]
    (base / alice).rmdir()
    result = run(base, [alice])
    assert result['missing_homes'] == [alice] and result['changed'] is False
    assert not (base / alice).exists()


def test_unknown_os_user_fails_before_any_write(homes):
    base, users = homes
    alice = users['alice'][0]
    play = local_play([dict(task(base, [alice, 'dnsm-nobody-here']), ignore_errors=True)])
    result = run_playbook(play).task('sparkmagic')
    assert result['failed'] is True
    assert 'dnsm-nobody-here' in result['msg']
    assert not (base / alice / '.sparkmagic').exists()


def test_backup_keeps_the_previous_file(homes):
    base, users = homes
    alice, entry = users['alice']
    run(base, [alice])
    path = config_path(base, alice)
    old = path.read_bytes()
    changed = dict(CONFIG, livy_session_startup_timeout_seconds=60)
    result = run_playbook(local_play([{'name': 'sparkmagic', 'datalake.notebooks.sparkmagic_config': {
        'users': [alice], 'home_base': str(base), 'config': changed, 'backup': True}}])).task('sparkmagic')
    backup = result['backup_files'][alice]
    assert open(backup, 'rb').read() == old
    info = os.stat(backup)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (entry.pw_uid, 0o600)


# --- Livy gate credentials: a hub token per user, made through the real hub's token API ----------

GATE_CONFIG = {'kernel_python_credentials': {'url': 'http://master-1.example.internal:8998', 'auth': 'None',
                                             'username': '', 'password': ''},
               'session_configs': {}}


@pytest.fixture
def hub_users(homes, jupyterhub):
    """The homes' users also exist in the real hub; removed (with their tokens) afterwards."""
    base, users = homes
    names = [name for name, dummy in users.values()]
    jupyterhub.create_users(names)
    yield base, users
    jupyterhub.delete_users(names)


def gate_task(base, users, hub, **credentials):
    settings = dict({'hub_url': hub.url, 'api_token': hub.superuser_token}, **credentials)
    return {'name': 'sparkmagic', 'datalake.notebooks.sparkmagic_config': {
        'users': users, 'home_base': str(base), 'config': GATE_CONFIG, 'gate_credentials': settings}}


def run_gate(base, users, hub, check=False, diff=False, **credentials):
    result = run_playbook(local_play([gate_task(base, users, hub, **credentials)]), check=check, diff=diff)
    assert result.rc == 0, result.stdout[-4000:] + result.stderr
    return result


def hub_token_ids(hub, name):
    return sorted(token['id'] for token in hub.api('GET', '/users/%s/tokens' % name, token=hub.superuser_token)['api_tokens'])


def owner_of(hub, token):
    response = requests.get(hub.url + '/hub/api/user', headers={'Authorization': 'token ' + token}, timeout=30)
    return response.json()['name'] if response.status_code == 200 else response.status_code


def test_gate_credentials_four_ways_one_token_per_user(hub_users, jupyterhub):
    base, users = hub_users
    names = [users['alice'][0], users['bob'][0]]
    runs = []
    for step, check in FOUR_WAYS:
        runs.append(run_gate(base, names, jupyterhub, check=check, diff=True))
        if step == 'check':
            assert [hub_token_ids(jupyterhub, name) for name in names] == [[], []], 'check mode made a token'
        if step == 'apply':
            made = {name: hub_token_ids(jupyterhub, name) for name in names}
    results = [r.task('sparkmagic') for r in runs]
    assert [r['changed'] for r in results] == [True, True, False, False]
    assert [sorted(r['new_tokens']) for r in results] == [sorted(names), sorted(names), [], []]
    # The re-runs asked the hub for nothing: each user still has the one token of the first apply.
    assert {name: hub_token_ids(jupyterhub, name) for name in names} == made
    assert all(len(ids) == 1 for ids in made.values())
    for name in names:
        data = json.loads(config_path(base, name).read_text())
        credentials = data['kernel_python_credentials']
        assert (credentials['auth'], credentials['username']) == ('Basic_Access', name)
        assert data['session_configs'] == {'proxyUser': name}
        assert data['datalake_notebooks_gate']['token_id'] == made[name][0]
        # The token is the user's own, and identifies them to the hub.
        assert owner_of(jupyterhub, credentials['password']) == name
        # ... and appears nowhere in Ansible's output, diffs included.
        for run in runs:
            assert credentials['password'] not in run.stdout + run.stderr
    assert '********' in results[1]['diff'][0]['after']


def test_gate_token_near_its_expiry_is_replaced_and_the_old_one_revoked(hub_users, jupyterhub):
    base, users = hub_users
    alice = users['alice'][0]
    run_gate(base, [alice], jupyterhub, token_lifetime=3600, renew_before=600)
    old = json.loads(config_path(base, alice).read_text())['kernel_python_credentials']['password']
    assert run_gate(base, [alice], jupyterhub, token_lifetime=3600, renew_before=600).task('sparkmagic')['changed'] is False
    # Now the margin covers the remaining hour: a new token, and the old one stops working.
    result = run_gate(base, [alice], jupyterhub, token_lifetime=7200, renew_before=3600).task('sparkmagic')
    assert result['new_tokens'] == [alice]
    new = json.loads(config_path(base, alice).read_text())['kernel_python_credentials']['password']
    assert new != old
    assert owner_of(jupyterhub, new) == alice
    assert owner_of(jupyterhub, old) == 403
    assert len(hub_token_ids(jupyterhub, alice)) == 1


def test_gate_refused_home_gets_no_token(hub_users, jupyterhub, victim):
    base, users = hub_users
    mallory, alice = users['mallory'][0], users['alice'][0]
    os.symlink(str(victim), str(base / mallory / '.sparkmagic'))
    before = snapshot(victim)
    result = run_gate(base, [alice, mallory], jupyterhub).task('sparkmagic')
    assert snapshot(victim) == before
    assert result['refused'][0]['user'] == mallory
    assert result['new_tokens'] == [alice]
    assert hub_token_ids(jupyterhub, mallory) == []


@pytest.mark.parametrize('credentials, words', [
    ({'renew_before': 3600, 'token_lifetime': 3600}, 'gate_credentials.renew_before (3600) must be positive and below'),
    ({'hub_url': 'hub.example'}, 'gate_credentials.hub_url must be an http'),
])
def test_gate_settings_that_cannot_work_fail_naming_them(hub_users, jupyterhub, credentials, words):
    base, users = hub_users
    play = local_play([dict(gate_task(base, [users['alice'][0]], jupyterhub, **credentials), ignore_errors=True)])
    result = run_playbook(play).task('sparkmagic')
    assert result['failed'] is True and words in result['msg']
    assert not (base / users['alice'][0] / '.sparkmagic').exists()
