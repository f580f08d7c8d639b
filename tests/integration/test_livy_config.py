"""datalake.notebooks.livy_config through ansible-playbook against files on this machine.

Each case runs four ways (check, apply, check again, apply again). The file on disk is then loaded
with Java's own java.util.Properties, through a UTF-8 reader as Livy does it (tests/unit/java/
PropsDump.java), which must read exactly the settings the play asked for.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys

import pytest

from playbook import REPO_ROOT, file_task_failing, file_task_four_ways

MODULE = 'datalake.notebooks.livy_config'
TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')
PROPS_DUMP = os.path.join(REPO_ROOT, 'tests', 'unit', 'java', 'PropsDump.java')
# The module needs only the standard library: run it with the system Python, as on a managed node
# (Debian's python3), and fall back to the suite's own interpreter elsewhere.
ENV = {'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable}


@pytest.fixture(scope='module')
def java_properties(tmp_path_factory):
    """load(path) -> what Properties.load reads from the file: a dict, or 'malformed'."""
    javac, java = shutil.which('javac'), shutil.which('java')
    if not javac or not java:
        pytest.fail('javac/java not found: the result is checked with Java\'s own Properties.load '
                    '(Debian: apt-get install openjdk-17-jdk-headless).')
    classes = tmp_path_factory.mktemp('propsdump')
    subprocess.run([javac, '-d', str(classes), PROPS_DUMP], check=True)

    def load(path):
        output = subprocess.run([java, '-cp', str(classes), 'PropsDump', str(path)], check=True,
                                capture_output=True, text=True, encoding='utf-8').stdout.splitlines()
        assert output[0] == '== %s' % path
        if output[1:] and output[1].startswith('!! '):
            return 'malformed'
        return dict(json.loads(line) for line in output[1:])
    return load


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
    assert java_properties(path) == 'malformed'
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
