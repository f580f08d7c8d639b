"""datalake.notebooks.livy_config through ansible-playbook against files on this machine.

Each case runs four ways (check, apply, check again, apply again). The file on disk is then loaded
with Java's own java.util.Properties, through a UTF-8 reader as Livy does it (the java_properties
fixture, fixtures_propsdump.py), which must read exactly the settings the play asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from playbook import REPO_ROOT, file_task_failing, file_task_four_ways, local_play, run_playbook

MODULE = 'datalake.notebooks.livy_config'
TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
# The module needs only the standard library: run it with the system Python, as on a managed node
# (Debian's python3), and fall back to the suite's own interpreter elsewhere.
ENV = {'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable}


def livy_view(loaded):
    """What Livy keeps of a loaded file: livy.* keys, values trimmed (String.trim)."""
    return dict((key, value.strip(''.join(map(chr, range(33)))))
                for key, value in loaded.items() if key.startswith('livy.'))


def four_ways(path, **args):
    return file_task_four_ways(MODULE, path, env=ENV, **args)


def run_failing(path, **args):
    return file_task_failing(MODULE, path, env=ENV, **args)


@pytest.fixture
def livy_conf(tmp_path):
    path = tmp_path / 'livy.conf'
    shutil.copy(TEMPLATE, path)
    return path


def test_template_shaped_file(livy_conf, java_properties):
    before = livy_conf.read_bytes()
    results, contents = four_ways(livy_conf, backup=True, properties={
        'livy.impersonation.enabled': True,
        'livy.server.port': 8999,
        'livy.spark.master': 'yarn',
        'livy.spark.deploy-mode': 'cluster',
        'livy.server.recovery.state-store.url': 'zk1:2181,zk2:2181',
        'livy.superusers': 'jupyterhub',
        'livy.ui.basePath': '/livy #1: caf\u00e9',
    })

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] == before
    assert contents[1] == contents[2] == contents[3] != before
    assert results[0]['diff'][0]['before'] == before.decode()
    assert results[0]['diff'][0]['after'] == results[1]['diff'][0]['after'] == contents[1].decode()
    with open(results[1]['backup_file'], 'rb') as handle:
        assert handle.read() == before
    assert 'backup_file' not in results[0] and 'backup_file' not in results[3]

    # Each template line is replaced where it was; only the key with no template is appended.
    old_lines, new_lines = before.decode().split('\n'), contents[1].decode().split('\n')
    assert [(old, new) for old, new in zip(old_lines[:-1], new_lines) if old != new] == [
        ('# livy.server.port = 8998', 'livy.server.port = 8999'),
        ('# livy.ui.basePath = ""', 'livy.ui.basePath = /livy \\#1\\: caf\\u00E9'),
        ('# livy.spark.master = local', 'livy.spark.master = yarn'),
        ('# livy.spark.deploy-mode =', 'livy.spark.deploy-mode = cluster'),
        ('# livy.impersonation.enabled = true', 'livy.impersonation.enabled = true'),
        # Escaped as Properties.store writes it.
        ('# livy.server.recovery.state-store.url =', 'livy.server.recovery.state-store.url = zk1\\:2181,zk2\\:2181'),
    ]
    assert new_lines[len(old_lines) - 1:] == ['livy.superusers = jupyterhub', '']

    expected = {
        'livy.impersonation.enabled': 'true',
        'livy.server.port': '8999',
        'livy.spark.master': 'yarn',
        'livy.spark.deploy-mode': 'cluster',
        'livy.server.recovery.state-store.url': 'zk1:2181,zk2:2181',
        'livy.superusers': 'jupyterhub',
        'livy.ui.basePath': '/livy #1: caf\u00e9',
    }
    assert java_properties(livy_conf) == expected
    assert [result['properties'] for result in results] == [expected] * 4


def test_hand_edited_file(tmp_path, java_properties):
    """CRLF, continuations, escapes, ':' and whitespace separators, '!' comments, duplicates."""
    path = tmp_path / 'livy.conf'
    before = (b'! Livy on the master node\r\n'
              b'livy.spark.master : local\r\n'
              b'livy.server.session.timeout 1h\r\n'
              b'livy.file.local-dir-whitelist = /srv/a,\\\r\n'
              b'    /srv/b\r\n'
              b'livy.ui.basePath = /caf\\u00e9\r\n'
              b'livy.spark.master: yarn\r\n'
              b'spark.ignored.by.livy = 1\r\n'
              b'livy.repl.jars = old')
    path.write_bytes(before)
    results, contents = four_ways(path, properties={
        'livy.spark.master': 'yarn',
        'livy.server.session.timeout': '2h',
        'livy.file.local-dir-whitelist': '/srv/c',
        'livy.ui.basePath': '/caf\u00e9',
        'livy.server.csrf-protection.enabled': False,
    })

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] == before
    assert [result['collapsed_duplicates'] for result in results] == [['livy.spark.master']] * 2 + [[]] * 2
    assert contents[3] == (b'! Livy on the master node\r\n'
                           b'livy.server.session.timeout 2h\r\n'
                           b'livy.file.local-dir-whitelist = /srv/c\r\n'
                           b'livy.ui.basePath = /caf\\u00e9\r\n'
                           b'livy.spark.master: yarn\r\n'
                           b'spark.ignored.by.livy = 1\r\n'
                           b'livy.repl.jars = old\r\n'
                           b'livy.server.csrf-protection.enabled = false\r\n')
    loaded = java_properties(path)
    assert loaded['spark.ignored.by.livy'] == '1'
    assert livy_view(loaded) == results[3]['properties'] == {
        'livy.spark.master': 'yarn',
        'livy.server.session.timeout': '2h',
        'livy.file.local-dir-whitelist': '/srv/c',
        'livy.ui.basePath': '/caf\u00e9',
        'livy.repl.jars': 'old',
        'livy.server.csrf-protection.enabled': 'false',
    }


def test_absent(tmp_path, java_properties):
    path = tmp_path / 'livy.conf'
    before = (b'# livy.server.session.timeout = 1h\n'
              b'livy.server.session.timeout = 1h\n'
              b'livy.superusers = jupyterhub\n'
              b'livy.server.session.timeout = \\\n  2h\n')
    path.write_bytes(before)
    results, contents = four_ways(path, state='absent', properties=['livy.server.session.timeout'])

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] == before
    assert contents[3] == b'# livy.server.session.timeout = 1h\nlivy.superusers = jupyterhub\n'
    assert java_properties(path) == {'livy.superusers': 'jupyterhub'}


def test_new_file_with_mode(tmp_path, java_properties):
    path = tmp_path / 'conf' / 'livy.conf'
    path.parent.mkdir()
    results, contents = four_ways(path, mode='0640', properties={'livy.impersonation.enabled': True})

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] is None
    assert contents[1] == contents[3] == b'livy.impersonation.enabled = true\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert java_properties(path) == {'livy.impersonation.enabled': 'true'}


def test_mode_of_existing_file(livy_conf):
    os.chmod(livy_conf, 0o644)
    before = livy_conf.read_bytes()
    results, contents = four_ways(livy_conf, mode='0600', properties={})

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert stat.S_IMODE(os.stat(livy_conf).st_mode) == 0o600
    assert contents == [before] * 4


def test_malformed_file_is_refused_and_left_alone(tmp_path, java_properties):
    path = tmp_path / 'livy.conf'
    before = b'livy.server.port = 8998\n\nlivy.ui.basePath = /caf\\u00g9\n'
    path.write_bytes(before)
    assert java_properties(path) == 'refused'
    result = run_failing(path, properties={'livy.server.port': 8999})
    assert 'line 3' in result['msg'] and 'not changed' in result['msg']
    assert path.read_bytes() == before


def test_non_livy_key_is_refused(livy_conf):
    before = livy_conf.read_bytes()
    result = run_failing(livy_conf, properties={'spark.master': 'yarn'})
    assert 'spark.master' in result['msg'] and 'livy.' in result['msg']
    assert livy_conf.read_bytes() == before


def test_missing_file_without_create(tmp_path):
    path = tmp_path / 'livy.conf'
    result = run_failing(path, create=False, properties={'livy.spark.master': 'yarn'})
    assert 'does not exist' in result['msg']
    assert not path.exists()


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


# --- Secrets -----------------------------------------------------------------------------------

def test_secrets_are_hidden_in_every_form_at_vvv(tmp_path, java_properties):
    path = tmp_path / 'livy.conf'
    # The file holds the secret escaped, as Properties.store writes S3cr=t!pw.
    path.write_bytes(b'# livy.keystore.password = t3mpl@te\n'
                     b'livy.keystore.password = S3cr\\=t\\!pw\n'
                     b'livy.server.port = 8998\n')
    task = {'name': 'set', MODULE: {'path': str(path), 'properties': {
        'livy.keystore.password': 'N3w:p#ss', 'livy.key-password': 'K3y pw\u00e9', 'livy.server.port': 8999}}}
    forms = ['t3mpl@te', 'S3cr', 't!pw', 't\\!pw', 'N3w', 'p#ss', 'p\\#ss', 'K3y', 'pw\u00e9', 'pw\\u00E9']
    for check in (True, False):
        shown = run_playbook(local_play([task]), check=check, diff=True, verbosity=3, env=ENV,
                             callback='ansible.builtin.default')
        assert shown.rc == 0, shown.stdout + shown.stderr
        output = shown.stdout + shown.stderr
        assert [form for form in forms if form in output] == []
        # Which lines changed stays visible.
        assert '-livy.keystore.password = ********(secret 2)' in output
        assert '+livy.keystore.password = ********(secret 3)' in output
        assert '+livy.key-password = ********(secret 4)' in output
        assert '+livy.server.port = 8999' in output
    result = run_playbook(local_play([task]), diff=True, env=ENV).task('set')
    assert result['changed'] is False
    assert result['properties'] == {'livy.keystore.password': '********', 'livy.key-password': '********',
                                    'livy.server.port': '8999'}
    assert java_properties(path) == {'livy.keystore.password': 'N3w:p#ss', 'livy.key-password': 'K3y pw\u00e9',
                                     'livy.server.port': '8999'}


# --- Symlinks, bind mounts -----------------------------------------------------------------------

def test_symlinked_file_and_directory_are_written_through(tmp_path, java_properties):
    real_dir = tmp_path / 'conf.dist'
    real_dir.mkdir()
    shutil.copy(TEMPLATE, real_dir / 'livy.conf.real')
    os.symlink('livy.conf.real', real_dir / 'livy.conf')
    os.symlink(real_dir, tmp_path / 'conf')
    path = tmp_path / 'conf' / 'livy.conf'
    results, contents = four_ways(path, backup=True, mode='0640', properties={'livy.impersonation.enabled': True})
    assert [result['changed'] for result in results] == [True, True, False, False]
    assert os.readlink(tmp_path / 'conf') == str(real_dir)
    assert os.readlink(real_dir / 'livy.conf') == 'livy.conf.real'
    assert stat.S_IMODE(os.stat(real_dir / 'livy.conf.real').st_mode) == 0o640
    assert java_properties(real_dir / 'livy.conf.real') == {'livy.impersonation.enabled': 'true'}
    assert os.path.dirname(results[1]['backup_file']) == str(real_dir)
    assert sorted(name for name in os.listdir(real_dir) if not name.endswith('~')) == ['livy.conf', 'livy.conf.real']


def test_bind_mounted_file_needs_unsafe_writes(tmp_path, java_properties):
    source = tmp_path / 'outside.conf'
    source.write_bytes(b'livy.server.port = 8998\n')
    conf = tmp_path / 'conf'
    conf.mkdir()
    path = conf / 'livy.conf'
    path.write_bytes(b'')
    sh('mount', '--bind', str(source), str(path))
    try:
        result = run_failing(path, properties={'livy.server.port': 8999})
        assert 'Device or resource busy' in result['msg'] and 'unsafe_writes: true' in result['msg']
        assert path.read_bytes() == b'livy.server.port = 8998\n'
        assert os.listdir(conf) == ['livy.conf']
        results, contents = four_ways(path, unsafe_writes=True, properties={'livy.server.port': 8999})
        assert [result['changed'] for result in results] == [True, True, False, False]
        assert java_properties(source) == {'livy.server.port': '8999'}
    finally:
        subprocess.run(['umount', str(path)], check=False)


def test_read_only_file_system_with_backup_fails_cleanly(tmp_path):
    mount = tmp_path / 'ro'
    mount.mkdir()
    sh('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mount))
    try:
        path = mount / 'livy.conf'
        path.write_bytes(b'livy.server.port = 8998\n')
        sh('mount', '-o', 'remount,ro', str(mount))
        result = run_failing(path, backup=True, properties={'livy.server.port': 8999})
        assert result['msg'] == ('Cannot back up %s: Read-only file system. Set backup: false to change it without'
                                 ' a backup. The file was not changed.' % path)
        assert 'Traceback' not in json.dumps(result)
        assert path.read_bytes() == b'livy.server.port = 8998\n'
    finally:
        subprocess.run(['umount', str(mount)], check=False)


def test_new_file_is_never_readable_by_others(tmp_path):
    path = tmp_path / 'livy.conf'
    result = run_failing(path, mode='0600', owner='no-such-user-a7', properties={'livy.keystore.password': 'x'})
    assert 'no-such-user-a7' in result['msg']
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


# --- Encodings ---------------------------------------------------------------------------------

@pytest.mark.parametrize('data, message, livy_reads', [
    ('livy.server.port = 8998\n'.encode('utf-16'), 'the file is UTF-16 encoded; Livy reads livy.conf as UTF-8',
     {}),
    (b'\xef\xbb\xbflivy.server.port = 8998\n', 'the file starts with a UTF-8 byte order mark', {}),
    (b'livy.server.port = 8998\nlivy.ui.basePath = /caf\xe9\n', 'line 2, column 24 holds bytes that are not valid UTF-8',
     {'livy.server.port': '8998', 'livy.ui.basePath': '/caf\ufffd'}),
    (b'livy.server.port = 8998\nlivy.ui.basePath = /\\uD800\n',
     'line 2: the value of livy.ui.basePath holds a \\uD800-\\uDFFF escape without its other half',
     {'livy.server.port': '8998', 'livy.ui.basePath': '/\ud800'}),
], ids=['UTF-16', 'byte order mark', 'Latin-1 bytes', 'lone surrogate escape'])
def test_encodings_are_named(tmp_path, java_properties, data, message, livy_reads):
    path = tmp_path / 'livy.conf'
    path.write_bytes(data)
    # What Livy reads from such a file is not what it seems to say.
    assert livy_view(java_properties(path)) == livy_reads
    result = run_failing(path, properties={'livy.server.port': 8999})
    assert result['msg'].startswith('%s: %s' % (path, message)), result['msg']
    assert result['msg'].endswith('The file was not changed.') and 'report' not in result['msg']
    assert path.read_bytes() == data
