"""datalake.notebooks.hadoop_config through ansible-playbook against files on this machine.

Each case runs four ways (check, apply, check again, apply again). The file on disk is then read
back with xml.dom.minidom, a parser the module does not use, which must find well-formed XML
holding exactly the expected properties.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import stat
import subprocess
import sys
import xml.dom.minidom

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _hadoop_xml, _sensitive
from playbook import REPO_ROOT, file_task_failing, file_task_four_ways, local_play, run_playbook

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


# Hadoop's own reader: the hadoop_conf fixture (fixtures_propsdump.py).


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


# --- Secrets -----------------------------------------------------------------------------------

SECRET_SITE = '''<?xml version="1.0"?>
<configuration>
  <property>
    <name>fs.s3a.secret.key</name>
    <value>S3cr&amp;t!pw</value>
  </property>
  <property>
    <name>fs.azure.account.key.acct.blob.core.windows.net</name>
    <value><![CDATA[Az<ure]]>K&#101;y==</value>
  </property>
  <property name="fs.s3a.bucket.logs.secret.key" value="Bucket&quot;Pw"/>
  <property>
    <name>fs.s3a.endpoint</name>
    <value>s3.example.com</value>
  </property>
</configuration>
'''
# Every form of every secret, as the file holds it or as it decodes; none may show anywhere.
SECRET_FORMS = ['S3cr', 't!pw', 'Az<ure', 'K&#101;y', 'AzureKey', 'ureKey', 'Bucket', 'N3w', 's3cr3t']


def test_secrets_are_hidden_in_results_and_diffs_at_vvv(tmp_path, hadoop_conf):
    path = tmp_path / 'core-site.xml'
    path.write_text(SECRET_SITE)
    task = {'name': 'set', MODULE: {'path': str(path), 'properties': {
        'fs.s3a.secret.key': 'N3w&<s3cr3t>', 'fs.s3a.endpoint': 's3.eu.example.com'}}}
    for check in (True, False):
        shown = run_playbook(local_play([task]), check=check, diff=True, verbosity=3, env=ENV,
                             callback='ansible.builtin.default')
        assert shown.rc == 0, shown.stdout + shown.stderr
        output = shown.stdout + shown.stderr
        assert [form for form in SECRET_FORMS if form in output] == []
        # The operator still sees which line changed, and that the untouched secrets did not.
        assert '-    <value>********(secret 1)</value>' in output
        assert '+    <value>********(secret 4)</value>' in output
        assert '+    <value>s3.eu.example.com</value>' in output
        diff_lines = [line for line in output.splitlines() if line.startswith(('-  ', '+  '))]
        assert len(diff_lines) == 4
        assert '********(secret 2)' in output and '********(secret 3)' in output
    result = run_playbook(local_play([task]), diff=True, env=ENV).task('set')
    assert result['changed'] is False
    assert result['properties'] == {'fs.s3a.secret.key': '********', 'fs.s3a.endpoint': 's3.eu.example.com'}
    assert hadoop_conf(path)[str(path)] == {
        'fs.s3a.secret.key': ('N3w&<s3cr3t>', False),
        'fs.azure.account.key.acct.blob.core.windows.net': ('Az<ureKey==', False),
        'fs.s3a.bucket.logs.secret.key': ('Bucket"Pw', False),
        'fs.s3a.endpoint': ('s3.eu.example.com', False),
    }


# --- Symlinks ----------------------------------------------------------------------------------

def test_symlinked_file_and_directory_are_written_through(tmp_path):
    """/etc/hadoop/conf -> /etc/alternatives/hadoop-conf -> /etc/hadoop/conf.empty, and a linked file."""
    real_dir = tmp_path / 'conf.empty'
    real_dir.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), real_dir / 'core-site.xml')
    (tmp_path / 'alternatives').mkdir()
    os.symlink(real_dir, tmp_path / 'alternatives' / 'hadoop-conf')
    os.symlink(tmp_path / 'alternatives' / 'hadoop-conf', tmp_path / 'conf')
    shared = tmp_path / 'shared'
    shared.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), shared / 'yarn-site.xml')
    os.symlink('../shared/yarn-site.xml', real_dir / 'yarn-site.xml')
    links = {link: os.readlink(link) for link in (tmp_path / 'conf', tmp_path / 'alternatives' / 'hadoop-conf',
                                                  real_dir / 'yarn-site.xml')}

    for path, target in ((tmp_path / 'conf' / 'core-site.xml', real_dir / 'core-site.xml'),
                         (tmp_path / 'conf' / 'yarn-site.xml', shared / 'yarn-site.xml')):
        results, contents = four_ways(path, backup=True, properties={'io.file.buffer.size': 65536})
        assert [result['changed'] for result in results] == [True, True, False, False]
        assert results[1]['path'] == str(path)
        assert site_properties(target)['io.file.buffer.size'] == ('65536', False)
        assert os.path.dirname(results[1]['backup_file']) == str(target.parent)
    assert {link: os.readlink(link) for link in links} == links
    assert os.path.islink(real_dir / 'yarn-site.xml')
    # Besides the files, only the backups, and no temporary file left.
    assert [name for name in os.listdir(real_dir) if name not in ('core-site.xml', 'yarn-site.xml')
            and not (name.startswith('core-site.xml.') and name.endswith('~'))] == []
    assert [name for name in os.listdir(shared) if name != 'yarn-site.xml'
            and not (name.startswith('yarn-site.xml.') and name.endswith('~'))] == []


# --- Files that cannot be replaced, file systems that cannot be written --------------------------

def test_read_only_file_system_fails_cleanly(tmp_path):
    mount = tmp_path / 'ro'
    mount.mkdir()
    sh('mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mount))
    try:
        path = mount / 'core-site.xml'
        shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), path)
        sh('mount', '-o', 'remount,ro', str(mount))
        before = path.read_bytes()
        for backup, message in ((True, 'Cannot back up %s: Read-only file system. Set backup: false to change it'
                                       ' without a backup. The file was not changed.'),
                                (False, 'Cannot create a temporary file beside %s: Read-only file system. The'
                                        ' file was not changed.')):
            result = run_failing(path, backup=backup, properties={'io.file.buffer.size': 1})
            assert result['msg'] == message % path
            assert 'Traceback' not in json.dumps(result)
            assert path.read_bytes() == before
            assert os.listdir(mount) == ['core-site.xml']
        result = run_failing(path, owner='nobody', properties={'io.file.buffer.size': 1})
        assert result['msg'] == ('Cannot set the owner, group or mode of %s: chown failed: Read-only file system.'
                                 ' The file was not changed.' % path)
        assert 'Traceback' not in json.dumps(result)
        assert path.read_bytes() == before
    finally:
        subprocess.run(['umount', str(mount)], check=False)


def test_bind_mounted_file_needs_unsafe_writes(tmp_path):
    """A file bind-mounted over another (as containers do) cannot be renamed onto: EBUSY."""
    source = tmp_path / 'outside' / 'core-site.xml'
    source.parent.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'core-site.xml'), source)
    conf = tmp_path / 'conf'
    conf.mkdir()
    path = conf / 'core-site.xml'
    path.write_bytes(b'')
    sh('mount', '--bind', str(source), str(path))
    try:
        before = path.read_bytes()
        result = run_failing(path, backup=True, properties={'io.file.buffer.size': 1})
        assert result['msg'].startswith('Cannot write %s: Device or resource busy. It cannot be replaced by a'
                                        ' rename (a bind-mounted file?); set unsafe_writes: true' % path)
        assert 'Traceback' not in json.dumps(result)
        assert path.read_bytes() == before == source.read_bytes()
        assert os.listdir(conf) == ['core-site.xml']

        results, contents = four_ways(path, unsafe_writes=True, properties={'io.file.buffer.size': 1})
        assert [result['changed'] for result in results] == [True, True, False, False]
        assert site_properties(source)['io.file.buffer.size'] == ('1', False)
        assert os.listdir(conf) == ['core-site.xml']
    finally:
        subprocess.run(['umount', str(path)], check=False)


def test_new_file_is_never_readable_by_others(tmp_path):
    """The file is 0600 from its first byte: even when the module stops right after the rename
    (here: the owner cannot be set), a secret in it was never world-readable."""
    path = tmp_path / 'core-site.xml'
    result = run_failing(path, create=True, mode='0640', owner='no-such-user-a7',
                         properties={'fs.s3a.secret.key': 'n0t-for-others'})
    assert 'no-such-user-a7' in result['msg']
    assert stat.S_IMODE(os.stat(path).st_mode) & 0o077 == 0


# --- Empty values, as Hadoop reads them ---------------------------------------------------------

def test_empty_value_after_a_value_is_what_hadoop_reads(tmp_path, hadoop_conf):
    path = tmp_path / 'core-site.xml'
    path.write_text('<configuration>\n'
                    '  <property><name>a</name><value>1</value></property>\n'
                    '  <property><name>a</name><value></value></property>\n'
                    '  <property><name>b</name><value>2</value></property>\n'
                    '</configuration>\n')
    before = path.read_bytes()
    assert hadoop_conf(path)[str(path)] == {'a': ('1', False), 'b': ('2', False)}
    results, contents = four_ways(path, properties={'a': '1'})
    assert [result['changed'] for result in results] == [False] * 4
    assert [result['properties'] for result in results] == [{'a': '1'}] * 4
    assert contents == [before] * 4

    results, contents = four_ways(path, properties={'a': '', 'b': ''})
    assert [result['changed'] for result in results] == [True, True, False, False]
    assert results[1]['properties'] == {'a': None, 'b': None}
    assert hadoop_conf(path)[str(path)] == {}


# --- Encodings ---------------------------------------------------------------------------------

@pytest.mark.parametrize('data, message', [
    ('<?xml version="1.0" encoding="UTF-16"?>\n<configuration/>\n'.encode('utf-16'),
     'the file is UTF-16 encoded; Hadoop reads such a file when it starts with a byte order mark'),
    ('<?xml version="1.0"?>\n<configuration/>\n'.encode('utf-16-le'), 'the file is UTF-16 encoded'),
    (b'<configuration><property><name>a</name><value>caf\xe9</value></property></configuration>\n',
     'line 1, column 50: bytes that are not valid UTF-8'),
], ids=['UTF-16', 'UTF-16 without byte order mark', 'Latin-1 bytes without declaration'])
def test_encodings_are_named(tmp_path, hadoop_conf, data, message):
    path = tmp_path / 'core-site.xml'
    path.write_bytes(data)
    result = run_failing(path, properties={'a': 'b'})
    assert result['msg'].startswith('%s: %s' % (path, message)), result['msg']
    assert result['msg'].endswith('The file was not changed.')
    assert 'report' not in result['msg']
    assert path.read_bytes() == data


# --- Fuzz: random files, random edits, read back by Hadoop ---------------------------------------

FUZZ_NAMES = ['x.a', 'x.b', 'x.c.d', 'x.e-f']
FUZZ_TEXTS = ['', ' ', '1', 'v', 'a&b', '<x>', 'caf\u00e9', 'q"\'', 'tab\there', 'two\nlines', '  pad  ',
              '${x.a}', ']]>', '\u20ac\U0001F600', 'cr\rlf']


def fuzz_text_form(rng, text):
    """`text` written as element content in one of the ways XML allows."""
    form = rng.randrange(5)
    if form == 1 and ']]>' not in text and '\r' not in text:
        return '<![CDATA[%s]]>' % text
    if form == 2 and text:
        return ''.join('&#%d;' % ord(char) if rng.random() < 0.5 else _hadoop_xml.escape(char) for char in text)
    if form == 3 and len(text) > 1:
        return _hadoop_xml.escape(text[:1]) + '<!-- c -->' + _hadoop_xml.escape(text[1:])
    return _hadoop_xml.escape(text)


def fuzz_property(rng):
    name = rng.choice(FUZZ_NAMES)
    if rng.random() < 0.15:
        attrs = ' name="%s"' % name
        if rng.random() < 0.8:
            attrs += ' value="%s"' % _hadoop_xml.escape(rng.choice(FUZZ_TEXTS), '"')
        if rng.random() < 0.3:
            attrs += ' final="%s"' % rng.choice(['true', 'false', 'TRUE'])
        return '<property%s/>' % attrs
    fields = ['<name>%s</name>' % rng.choice([name, ' %s ' % name, '\n  %s\n' % name])]
    roll = rng.random()
    if roll < 0.15:
        fields.append(rng.choice(['<value/>', '<value></value>']))
    elif roll < 0.9:
        fields.append('<value>%s</value>' % fuzz_text_form(rng, rng.choice(FUZZ_TEXTS)))
    if rng.random() < 0.3:
        fields.append('<final>%s</final>' % rng.choice(['true', 'false', ' true', 'true', '']))
    if rng.random() < 0.2:
        fields.append('<description>%s</description>' % _hadoop_xml.escape(rng.choice(FUZZ_TEXTS)))
    if rng.random() < 0.1:
        rng.shuffle(fields)
    indent, close = rng.choice([('', ''), ('\n    ', '\n  '), ('\n\t\t', '\n\t')])
    return '<property>%s%s%s</property>' % (indent, indent.join(fields), close)


def fuzz_file(rng):
    newline = rng.choice(['\n', '\n', '\r\n'])
    head = rng.choice(['', '<?xml version="1.0"?>' + newline, '<?xml version="1.0" encoding="UTF-8"?>' + newline])
    body = [fuzz_property(rng) for dummy in range(rng.randrange(0, 7))]
    if body and rng.random() < 0.3:
        body.insert(rng.randrange(len(body)), '<!-- %s -->' % rng.choice(FUZZ_NAMES))
    inner = ''.join(newline + '  ' + part for part in body)
    return head + '<configuration>' + inner + newline + '</configuration>' + newline


def fuzz_edit(rng):
    names = rng.sample(FUZZ_NAMES, rng.randrange(1, 4))
    if rng.random() < 0.2:
        return names, 'absent'
    wanted = {}
    for name in names:
        value = rng.choice(FUZZ_TEXTS)
        if rng.random() < 0.3:
            wanted[name] = {'value': value, 'final': rng.random() < 0.5}
        else:
            wanted[name] = value
    return wanted, 'present'


def test_fuzz_edits_read_back_by_hadoop(tmp_path, hadoop_conf):
    """Random site files edited with the module's own code, then loaded by Hadoop's Configuration:
    what Hadoop reads must be what the module says it reads, before and after the edit."""
    def module_view(text):
        doc = _hadoop_xml.parse(text)
        view = {}
        for name in sorted(set(prop.name for prop in doc.properties if prop.name is not None)):
            value, final, dummy = doc.effective(name)
            if value is not None or final:
                view[name] = (value, final)
        return view

    rng = random.Random(20261201)
    cases, blocked = [], 0
    for index in range(400):
        text = fuzz_file(rng)
        wanted, state = fuzz_edit(rng)
        to_set, to_remove = _hadoop_xml.normalize(wanted, state)
        try:
            outcome = _hadoop_xml.parse(text).edit(set=to_set, remove=to_remove, force=rng.random() < 0.5)
        except _hadoop_xml.FinalPropertyError:
            blocked += 1
            outcome = None
        before, after = tmp_path / ('%03d-before.xml' % index), tmp_path / ('%03d-after.xml' % index)
        before.write_bytes(text.encode())
        if outcome is not None:
            after.write_bytes(outcome.text.encode('utf-8', 'surrogateescape'))
        cases.append((text, before, outcome, after))
    files = [case[1] for case in cases] + [case[3] for case in cases if case[2] is not None]
    # What diff mode shows, every name taken for a secret: Hadoop must read placeholders only.
    shown = []
    for text, before, outcome, after in cases:
        path = before.with_name(before.name.replace('before', 'shown'))
        path.write_text(_hadoop_xml.display_text(text, lambda name: True, _sensitive.Placeholders()))
        shown.append(path)
    hadoop = hadoop_conf(*files + shown)
    leaks = [(path.read_text(), hadoop[str(path)]) for path in shown if any(
        value is not None and not value.startswith('********(secret ') for value, final in hadoop[str(path)].values())]
    assert leaks == []

    mismatches = []
    for text, before, outcome, after in cases:
        if hadoop[str(before)] != module_view(text):
            mismatches.append(('read', text, hadoop[str(before)], module_view(text)))
        if outcome is None:
            continue
        read = hadoop[str(after)]
        if read != module_view(outcome.text) or any(
                read.get(name, (None, False))[0] != value for name, value in outcome.values.items()):
            mismatches.append(('edit', text, outcome.text, read, outcome.values))
    assert mismatches == []
    edited = len(files) - len(cases)
    print('hadoop_config fuzz: %d files, %d edits and %d diff views read back by Hadoop, %d refused as final'
          % (len(cases), edited, len(shown), blocked))
    assert edited > 300
