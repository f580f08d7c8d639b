"""hadoop_config through main(), with module arguments patched in as Ansible would pass them."""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.datalake.notebooks.plugins.modules import hadoop_config

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'hadoop_xml')

PROXY_GROUPS = '<name>hadoop.proxyuser.livy.groups</name>\n    <value>*</value>'


@pytest.fixture
def site(tmp_path):
    """A copy of the core-site.xml fixture; returns its path."""
    path = tmp_path / 'core-site.xml'
    shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), path)
    return path


@pytest.fixture
def run(run_module):
    """Run hadoop_config with `args`; returns its result dict (failed or not)."""
    def runner(args, check=False, diff=False):
        return run_module(hadoop_config, args, check=check, diff=diff)
    return runner


def test_set_value(run, site):
    before = site.read_text()
    result = run({'path': str(site), 'properties': {'hadoop.proxyuser.livy.groups': 'notebooks'}})
    assert result['changed'] is True
    assert result['properties'] == {'hadoop.proxyuser.livy.groups': 'notebooks'}
    assert 'backup_file' not in result
    assert site.read_text() == before.replace(PROXY_GROUPS, PROXY_GROUPS.replace('*', 'notebooks'))


def test_idempotent(run, site):
    before = site.read_bytes()
    mtime = os.stat(site).st_mtime_ns
    unchanged = {'hadoop.proxyuser.livy.groups': '*', 'fs.defaultFS': 'hdfs://nn1.cluster.example.com:8020'}
    result = run({'path': str(site), 'properties': unchanged})
    assert result['changed'] is False
    assert site.read_bytes() == before
    assert os.stat(site).st_mtime_ns == mtime


def test_check_mode_writes_nothing_and_diff_shows_real_text(run, site):
    before = site.read_text()
    result = run({'path': str(site), 'properties': {'hadoop.proxyuser.livy.groups': 'notebooks'},
                  'backup': True}, check=True, diff=True)
    assert result['changed'] is True
    assert site.read_text() == before
    assert os.listdir(site.parent) == ['core-site.xml']
    text_diff = result['diff'][0]
    assert text_diff['before'] == before
    assert text_diff['after'] == before.replace(PROXY_GROUPS, PROXY_GROUPS.replace('*', 'notebooks'))
    assert text_diff['before_header'] == text_diff['after_header'] == str(site)


def test_backup(run, site):
    before = site.read_text()
    result = run({'path': str(site), 'properties': {'io.file.buffer.size': 65536}, 'backup': True})
    assert result['changed'] is True
    with open(result['backup_file']) as handle:
        assert handle.read() == before


def test_absent(run, site):
    result = run({'path': str(site), 'state': 'absent',
                  'properties': ['hadoop.proxyuser.livy.hosts', 'not.there']})
    assert result['changed'] is True
    assert result['properties'] == {'hadoop.proxyuser.livy.hosts': None, 'not.there': None}
    assert 'hadoop.proxyuser.livy.hosts' not in site.read_text()
    # A dictionary works too (the values do not matter), and nothing is left to remove.
    again = run({'path': str(site), 'state': 'absent', 'properties': {'hadoop.proxyuser.livy.hosts': 'x'}})
    assert again['changed'] is False


def test_final_refused_then_forced(run, site):
    before = site.read_text()
    args = {'path': str(site), 'properties': {'fs.defaultFS': 'file:///'}}
    result = run(args)
    assert result['failed'] is True
    assert result['final_properties'] == {'fs.defaultFS': [20]}
    assert result['msg'].startswith('fs.defaultFS (line 20) is marked final (<final>true</final>) in %s' % site)
    assert 'force: true' in result['msg']
    assert site.read_text() == before
    result = run(dict(args, force=True))
    assert result['changed'] is True
    assert '<value>file:///</value>\n    <final>true</final>' in site.read_text()


def test_malformed_file_is_left_alone(run, site):
    broken = site.read_text().replace('</property>', '</propery>', 1)
    site.write_text(broken)
    result = run({'path': str(site), 'properties': {'a': 'b'}, 'force': True})
    assert result['failed'] is True
    assert (result['line'], result['column']) == (26, 5)
    assert result['msg'] == ('%s is not a valid Hadoop configuration file: line 26, column 5: mismatched tag.'
                             ' The file was not changed.' % site)
    assert site.read_text() == broken


@pytest.mark.parametrize('check', [True, False])
def test_create(run, tmp_path, check):
    path = tmp_path / 'hdfs-site.xml'
    result = run({'path': str(path), 'create': True, 'mode': '0640',
                  'properties': {'dfs.replication': {'value': 2, 'final': True, 'description': 'Copies.'}}},
                 check=check, diff=True)
    assert result['changed'] is True
    expected = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                '<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>\n'
                '<configuration>\n'
                '  <property>\n'
                '    <name>dfs.replication</name>\n'
                '    <value>2</value>\n'
                '    <final>true</final>\n'
                '    <description>Copies.</description>\n'
                '  </property>\n'
                '</configuration>\n')
    assert result['diff'][0]['before'] == ''
    assert result['diff'][0]['before_header'] == '%s (absent)' % path
    assert result['diff'][0]['after'] == expected
    if check:
        assert not path.exists()
    else:
        assert path.read_text() == expected
        assert oct(os.stat(path).st_mode & 0o777) == '0o640'


def test_missing_file_without_create(run, tmp_path):
    path = tmp_path / 'core-site.xml'
    result = run({'path': str(path), 'properties': {'a': 'b'}})
    assert result['failed'] is True
    assert result['msg'] == '%s does not exist; set create: true to create it.' % path
    absent = run({'path': str(path), 'properties': ['a'], 'state': 'absent'})
    assert absent['changed'] is False
    assert not path.exists()


def test_mode_change_alone_is_a_change(run, site):
    os.chmod(site, 0o644)
    result = run({'path': str(site), 'properties': {}, 'mode': '0600'}, diff=True)
    assert result['changed'] is True
    assert result['diff'][1] == {'before': {'mode': '0644'}, 'after': {'mode': '0600'}}
    assert oct(os.stat(site).st_mode & 0o777) == '0o600'


def test_duplicates_warn(run, tmp_path):
    path = tmp_path / 'yarn-site.xml'
    shutil.copy(os.path.join(FIXTURES, 'yarn-site-mixed.xml'), path)
    result = run({'path': str(path), 'properties': {'yarn.log-aggregation-enable': True}})
    assert result['changed'] is False
    # Ansible keeps warnings process-wide: earlier modules' warnings may be listed too.
    assert [warning['event']['msg'] for warning in result['warnings'] if str(path) in warning['event']['msg']] == [
        'yarn.log-aggregation-enable is defined 2 times in %s (lines 6, 14); Hadoop uses the last definition,'
        ' or the first one marked final.' % path]


def test_invalid_properties(run, site):
    result = run({'path': str(site), 'properties': {'a': {'value': 1, 'tag': 'x'}}})
    assert result['failed'] is True
    assert result['msg'] == 'Invalid properties: property a: unknown key(s) tag; use value, final, description.'


def test_unreadable_path(run, tmp_path):
    result = run({'path': str(tmp_path), 'properties': {'a': 'b'}})
    assert result['failed'] is True
    assert result['msg'] == 'Cannot read %s: Is a directory.' % tmp_path
