"""livy_config through main(), with module arguments patched in as Ansible would pass them."""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile

import pytest

from ansible_collections.datalake.notebooks.plugins.modules import livy_config

TEMPLATE = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'livy.conf.template')
IMPERSONATION = '# livy.impersonation.enabled = true\n'


@pytest.fixture
def conf(tmp_path):
    """A livy.conf copied from Livy's template; returns its path."""
    path = tmp_path / 'livy.conf'
    shutil.copy(TEMPLATE, path)
    return path


@pytest.fixture
def run(run_module):
    """Run livy_config with `args`; returns its result dict (failed or not)."""
    def runner(args, check=False, diff=False):
        return run_module(livy_config, args, check=check, diff=diff)
    return runner


def test_template_line_is_set_in_place(run, conf):
    before = conf.read_text()
    properties = {'livy.impersonation.enabled': True, 'livy.server.port': 8999}
    result = run({'path': str(conf), 'properties': properties})
    assert result['changed'] is True
    assert result['properties'] == {'livy.impersonation.enabled': 'true', 'livy.server.port': '8999'}
    assert result['collapsed_duplicates'] == []
    assert 'backup_file' not in result and 'diff' not in result
    assert conf.read_text() == before.replace(
        IMPERSONATION, 'livy.impersonation.enabled = true\n').replace(
        '# livy.server.port = 8998\n', 'livy.server.port = 8999\n')


def test_idempotent(run, conf):
    properties = {'livy.impersonation.enabled': True, 'livy.superusers': 'jupyterhub'}
    args = {'path': str(conf), 'properties': properties}
    assert run(args)['changed'] is True
    content = conf.read_bytes()
    mtime = os.stat(conf).st_mtime_ns
    result = run(args)
    assert result['changed'] is False
    assert conf.read_bytes() == content
    assert os.stat(conf).st_mtime_ns == mtime


def test_equivalent_escaped_value_is_left_alone(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_bytes(b'livy.ui.basePath : /caf\\u00e9\\\n   /x\r\n')
    result = run({'path': str(path), 'properties': {'livy.ui.basePath': '/caf\u00e9/x'}})
    assert result['changed'] is False
    assert path.read_bytes() == b'livy.ui.basePath : /caf\\u00e9\\\n   /x\r\n'


def test_check_mode_writes_nothing_and_diff_shows_real_text(run, conf):
    before = conf.read_text()
    result = run({'path': str(conf), 'properties': {'livy.impersonation.enabled': False}},
                 check=True, diff=True)
    assert result['changed'] is True
    assert conf.read_text() == before
    assert result['properties'] == {'livy.impersonation.enabled': 'false'}
    assert result['diff'] == [{
        'before': before,
        'after': before.replace(IMPERSONATION, 'livy.impersonation.enabled = false\n'),
        'before_header': str(conf),
        'after_header': str(conf),
    }]


def test_check_mode_on_missing_file(run, tmp_path):
    path = tmp_path / 'livy.conf'
    result = run({'path': str(path), 'properties': {'livy.spark.master': 'yarn'}}, check=True, diff=True)
    assert result['changed'] is True
    assert not path.exists()
    assert result['diff'][0]['before'] == ''
    assert result['diff'][0]['before_header'] == '%s (absent)' % path
    assert result['diff'][0]['after'] == 'livy.spark.master = yarn\n'


def test_creates_missing_file(run, tmp_path):
    path = tmp_path / 'livy.conf'
    result = run({'path': str(path), 'properties': {'livy.spark.master': 'yarn'}, 'mode': '0640'})
    assert result['changed'] is True
    assert path.read_text() == 'livy.spark.master = yarn\n'
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_create_false_on_missing_file_fails(run, tmp_path):
    path = tmp_path / 'livy.conf'
    result = run({'path': str(path), 'properties': {'livy.spark.master': 'yarn'}, 'create': False})
    assert result['failed'] is True
    assert 'does not exist' in result['msg'] and 'create' in result['msg']
    assert not path.exists()


def test_absent_removes_every_line_of_the_key(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_text('# livy.spark.master = local\nlivy.spark.master = local\nlivy.a = 1\n'
                    'livy.spark.master yarn\\\n  -client\n')
    result = run({'path': str(path), 'properties': ['livy.spark.master', 'livy.not.there'],
                  'state': 'absent'}, diff=True)
    assert result['changed'] is True
    assert path.read_text() == '# livy.spark.master = local\nlivy.a = 1\n'
    assert result['properties'] == {'livy.a': '1'}
    assert result['collapsed_duplicates'] == []


def test_absent_ignores_values(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_text('livy.a = 1\nlivy.b = 2\n')
    result = run({'path': str(path), 'properties': {'livy.a': 'anything'}, 'state': 'absent'})
    assert result['changed'] is True
    assert path.read_text() == 'livy.b = 2\n'


def test_absent_on_missing_file_is_no_change(run, tmp_path):
    path = tmp_path / 'livy.conf'
    result = run({'path': str(path), 'properties': ['livy.a'], 'state': 'absent'})
    assert result['changed'] is False
    assert result['properties'] == {}
    assert not path.exists()


def test_duplicates_collapse_and_are_reported(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_text('livy.spark.master = local\n# comment\nlivy.spark.master: yarn\n')
    result = run({'path': str(path), 'properties': {'livy.spark.master': 'yarn'}})
    assert result['changed'] is True
    assert result['collapsed_duplicates'] == ['livy.spark.master']
    # ansible-core 2.19+ returns warnings as structured events.
    assert 'on more than one line' in json.dumps(result['warnings'])
    assert path.read_text() == '# comment\nlivy.spark.master: yarn\n'


@pytest.mark.parametrize('properties, offenders', [
    ({'spark.master': 'yarn'}, 'spark.master'),
    ({'livy.a': '1', 'Livy.b': '2', 'livy': '3'}, 'Livy.b, livy'),
])
def test_non_livy_key_is_refused(run, conf, properties, offenders):
    before = conf.read_bytes()
    result = run({'path': str(conf), 'properties': properties})
    assert result['failed'] is True
    assert 'livy.' in result['msg'] and offenders in result['msg']
    assert conf.read_bytes() == before


def test_non_livy_key_is_refused_for_absent_too(run, conf):
    result = run({'path': str(conf), 'properties': ['spark.master'], 'state': 'absent'})
    assert result['failed'] is True
    assert result['keys'] == ['spark.master']


@pytest.mark.parametrize('properties, state, message', [
    ({'livy.a': ['x']}, 'present', 'value of livy.a'),
    (['livy.a'], 'present', 'must be a dictionary'),
    ('livy.a', 'absent', 'must be a list of keys or a dictionary'),
])
def test_invalid_properties(run, conf, properties, state, message):
    result = run({'path': str(conf), 'properties': properties, 'state': state})
    assert result['failed'] is True
    assert message in result['msg']


def test_malformed_file_is_not_changed(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_bytes(b'livy.a = 1\n\nlivy.b = \\u00zz\n')
    result = run({'path': str(path), 'properties': {'livy.a': '2'}})
    assert result['failed'] is True
    assert result['line'] == 3
    assert 'line 3' in result['msg'] and 'not changed' in result['msg']
    assert path.read_bytes() == b'livy.a = 1\n\nlivy.b = \\u00zz\n'


def test_backup(run, conf):
    before = conf.read_bytes()
    result = run({'path': str(conf), 'properties': {'livy.superusers': 'hub'}, 'backup': True})
    assert result['changed'] is True
    with open(result['backup_file'], 'rb') as handle:
        assert handle.read() == before
    again = run({'path': str(conf), 'properties': {'livy.superusers': 'hub'}, 'backup': True})
    assert again['changed'] is False and 'backup_file' not in again


def test_mode_alone_is_a_change_with_its_own_diff(run, conf):
    os.chmod(conf, 0o644)
    result = run({'path': str(conf), 'properties': {}, 'mode': '0600'}, diff=True)
    assert result['changed'] is True
    assert stat.S_IMODE(os.stat(conf).st_mode) == 0o600
    assert result['diff'][0]['before'] == result['diff'][0]['after']
    assert result['diff'][1] == {'before': {'mode': '0644'}, 'after': {'mode': '0600'}}


def test_crlf_and_missing_final_newline_are_kept(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_bytes(b'# Livy\r\nlivy.a = 1\r\nlivy.b = 2')
    result = run({'path': str(path), 'properties': {'livy.b': '3'}})
    assert result['changed'] is True
    assert path.read_bytes() == b'# Livy\r\nlivy.a = 1\r\nlivy.b = 3'
    run({'path': str(path), 'properties': {'livy.c': 'x y'}})
    assert path.read_bytes() == b'# Livy\r\nlivy.a = 1\r\nlivy.b = 3\r\nlivy.c = x y\r\n'


def test_escaped_on_write_and_trimmed_in_result(run, tmp_path):
    path = tmp_path / 'livy.conf'
    result = run({'path': str(path), 'properties': {'livy.x': ' caf\u00e9=#1 '}})
    assert path.read_bytes() == b'livy.x = \\ caf\\u00E9\\=\\#1 \n'
    assert result['properties'] == {'livy.x': 'caf\u00e9=#1'}


def test_secret_values_are_hidden(run, tmp_path):
    path = tmp_path / 'livy.conf'
    path.write_text('livy.key-password = old-secret-value\n')
    properties = {'livy.keystore.password': 'new-secret-value', 'livy.key-password': 'other-secret-value'}
    result = run({'path': str(path), 'properties': properties}, diff=True)
    assert result['changed'] is True
    output = json.dumps(result)
    for secret in ('old-secret-value', 'new-secret-value', 'other-secret-value'):
        assert secret not in output
    assert 'livy.keystore.password = new-secret-value' in path.read_text()


def test_unreadable_path_fails_cleanly(run, tmp_path):
    result = run({'path': str(tmp_path), 'properties': {'livy.a': '1'}})
    assert result['failed'] is True
    assert result['msg'].startswith('Cannot read %s: ' % tmp_path)


def test_unwritable_directory_fails_cleanly(run, tmp_path, monkeypatch):
    path = tmp_path / 'livy.conf'
    path.write_text('livy.a = 1\n')

    def refuse(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')
    # Root writes anywhere, so a read-only directory would not do: refuse the temp file instead.
    monkeypatch.setattr(tempfile, 'mkstemp', refuse)
    result = run({'path': str(path), 'properties': {'livy.a': '2'}})
    assert result['failed'] is True
    assert result['msg'] == ('Cannot create a temporary file beside %s: Permission denied. The file was not'
                             ' changed.' % path)
    assert path.read_text() == 'livy.a = 1\n'


def test_a_null_value_removes_its_key_in_the_same_call_that_sets_others(run, conf):
    conf.write_text('livy.a = 1\nlivy.b = 2\n')
    result = run({'path': str(conf), 'properties': {'livy.a': None, 'livy.c': 3}})
    assert result['changed'] is True
    assert conf.read_text() == 'livy.b = 2\nlivy.c = 3\n'
    assert result['properties'] == {'livy.b': '2', 'livy.c': '3'}
