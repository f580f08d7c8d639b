"""datalake.notebooks.hadoop_config through ansible-playbook against files on this machine.

Each case runs four ways (check, apply, check again, apply again). The file on disk is then read
back with xml.dom.minidom, a parser the module does not use, which must find well-formed XML
holding exactly the expected properties.
"""

from __future__ import annotations

import os
import shutil
import sys
import xml.dom.minidom

import pytest

from playbook import REPO_ROOT, file_task_failing, file_task_four_ways

MODULE = 'datalake.notebooks.hadoop_config'
FIXTURES = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'hadoop_xml')
# The module needs only the standard library: run it with the system Python, as on a managed node
# (Debian's python3), and fall back to the suite's own interpreter elsewhere.
ENV = {'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable}


def site_properties(path):
    """name -> (value, final) of every <property> in the file, read with minidom."""
    document = xml.dom.minidom.parse(str(path))
    root = document.documentElement
    assert root.tagName == 'configuration'
    found = {}
    for prop in root.getElementsByTagName('property'):
        fields = {}
        for child in prop.childNodes:
            if child.nodeType == child.ELEMENT_NODE:
                fields[child.tagName] = ''.join(
                    node.data for node in child.childNodes
                    if node.nodeType in (node.TEXT_NODE, node.CDATA_SECTION_NODE))
        name = fields['name'].strip()
        assert name not in found, 'duplicate %s' % name
        found[name] = (fields.get('value'), fields.get('final') == 'true')
    return found


def four_ways(path, **args):
    return file_task_four_ways(MODULE, path, env=ENV, **args)


def run_failing(path, **args):
    return file_task_failing(MODULE, path, env=ENV, **args)


@pytest.fixture
def core_site(tmp_path):
    path = tmp_path / 'core-site.xml'
    shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), path)
    return path


CORE_SITE = {
    'fs.defaultFS': ('hdfs://nn1.cluster.example.com:8020', True),
    'hadoop.tmp.dir': ('/data/tmp/hadoop-${user.name}', False),
    'hadoop.proxyuser.livy.hosts': ('livy1.cluster.example.com,livy2.cluster.example.com', False),
    'hadoop.proxyuser.livy.groups': ('*', False),
    'io.file.buffer.size': ('131072', False),
    'hadoop.security.auth_to_local': ('\n      RULE:[2:$1@$0](nn@.*CLUSTER.EXAMPLE.COM)s/.*/hdfs/\n      DEFAULT\n    ',
                                      False),
    'net.topology.script.file.name': ('/etc/hadoop/conf/topology.sh --site "a&b"', False),
    'hadoop.http.staticuser.user': ('dr.who & friends', False),
}


def test_set_and_add_properties(core_site):
    before = core_site.read_bytes()
    results, contents = four_ways(core_site, properties={
        'hadoop.proxyuser.livy.groups': 'notebook-users',
        'hadoop.proxyuser.livy.hosts': 'livy1.cluster.example.com,livy2.cluster.example.com',
        'hadoop.proxyuser.jupyter.hosts': {'value': 'hub.cluster.example.com', 'final': True,
                                           'description': 'JupyterHub <-> Livy & HDFS'},
        'ipc.client.connect.max.retries': 10,
    }, backup=True)

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] == before
    assert contents[1] == contents[2] == contents[3] != before
    # Diff mode shows the real file text, in check mode too.
    assert results[0]['diff'][0]['before'] == before.decode()
    assert results[0]['diff'][0]['after'] == results[1]['diff'][0]['after'] == contents[1].decode()
    with open(results[1]['backup_file'], 'rb') as handle:
        assert handle.read() == before
    assert 'backup_file' not in results[0]

    expected = dict(CORE_SITE)
    expected.update({
        'hadoop.proxyuser.livy.groups': ('notebook-users', False),
        'hadoop.proxyuser.jupyter.hosts': ('hub.cluster.example.com', True),
        'ipc.client.connect.max.retries': ('10', False),
    })
    assert site_properties(core_site) == expected
    # Only the edited value and the two new blocks differ; the rest is byte for byte the same.
    text = contents[1].decode()
    head, tail = before.decode().split('</configuration>')
    assert text == head.replace('<value>*</value>', '<value>notebook-users</value>') + (
        '  <property>\n'
        '    <name>hadoop.proxyuser.jupyter.hosts</name>\n'
        '    <value>hub.cluster.example.com</value>\n'
        '    <final>true</final>\n'
        '    <description>JupyterHub &lt;-&gt; Livy &amp; HDFS</description>\n'
        '  </property>\n'
        '  <property>\n'
        '    <name>ipc.client.connect.max.retries</name>\n'
        '    <value>10</value>\n'
        '  </property>\n'
        '</configuration>') + tail


def test_create_new_file(tmp_path):
    path = tmp_path / 'conf' / 'hdfs-site.xml'
    path.parent.mkdir()
    results, contents = four_ways(path, create=True, mode='0640', properties={
        'dfs.replication': 2, 'dfs.permissions.enabled': True})

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[0] is None
    assert oct(os.stat(path).st_mode & 0o777) == '0o640'
    assert site_properties(path) == {'dfs.replication': ('2', False), 'dfs.permissions.enabled': ('true', False)}
    assert contents[1].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert os.listdir(path.parent) == ['hdfs-site.xml']  # no temp file left behind


def test_remove_properties_from_emr_file(tmp_path):
    path = tmp_path / 'core-site.xml'
    shutil.copy(os.path.join(FIXTURES, 'emr-core-site.xml'), path)
    before = path.read_text()
    results, contents = four_ways(path, state='absent', properties=[
        'hadoop.proxyuser.livy.hosts', 'hadoop.proxyuser.livy.groups', 'not.defined'])

    assert [result['changed'] for result in results] == [True, True, False, False]
    assert results[1]['properties'] == {'hadoop.proxyuser.livy.hosts': None,
                                        'hadoop.proxyuser.livy.groups': None, 'not.defined': None}
    assert set(site_properties(path)) == {'fs.defaultFS', 'hadoop.security.authentication', 'fs.s3.buffer.dir',
                                          'hadoop.proxyuser.hive.hosts', 'io.compression.codecs'}
    assert path.read_text() == before.replace(
        '<property>\n  <name>hadoop.proxyuser.livy.groups</name>\n  <value>*</value>\n</property>\n', '').replace(
        '<property>\n  <name>hadoop.proxyuser.livy.hosts</name>\n  <value>*</value>\n</property>\n', '')


def test_final_property_needs_force(core_site):
    before = core_site.read_bytes()
    result = run_failing(core_site, properties={'fs.defaultFS': 'hdfs://nn2.cluster.example.com:8020'})
    assert 'fs.defaultFS (line 20) is marked final' in result['msg']
    assert core_site.read_bytes() == before

    results, contents = four_ways(core_site, force=True,
                                  properties={'fs.defaultFS': 'hdfs://nn2.cluster.example.com:8020'})
    assert [result['changed'] for result in results] == [True, True, False, False]
    expected = dict(CORE_SITE, **{'fs.defaultFS': ('hdfs://nn2.cluster.example.com:8020', True)})
    assert site_properties(core_site) == expected
    assert contents[1] == before.replace(b'hdfs://nn1.cluster', b'hdfs://nn2.cluster')


def test_malformed_file_is_not_touched(tmp_path):
    path = tmp_path / 'yarn-site.xml'
    broken = b'<?xml version="1.0"?>\n<configuration>\n  <property>\n    <name>a</name>\n</configuration>\n'
    path.write_bytes(broken)
    result = run_failing(path, properties={'a': 'b'}, backup=True)
    assert result['msg'] == ('%s is not a valid Hadoop configuration file: line 5, column 3: mismatched tag.'
                             ' The file was not changed.' % path)
    assert path.read_bytes() == broken
    assert os.listdir(tmp_path) == ['yarn-site.xml']


def test_crlf_tabs_file(tmp_path):
    path = tmp_path / 'hdfs-site.xml'
    shutil.copy(os.path.join(FIXTURES, 'hdfs-site-crlf-tabs.xml'), path)
    before = path.read_bytes()
    results, contents = four_ways(path, properties={'dfs.replication': 2, 'dfs.blocksize': 268435456})
    assert [result['changed'] for result in results] == [True, True, False, False]
    assert contents[1] == before.replace(b'<value>3</value>', b'<value>2</value>').replace(
        b'\t</property>\r\n</configuration>',
        b'\t</property>\r\n\t<property>\r\n\t\t<name>dfs.blocksize</name>\r\n\t\t<value>268435456</value>\r\n'
        b'\t</property>\r\n</configuration>')
    assert site_properties(path)['dfs.blocksize'] == ('268435456', False)
