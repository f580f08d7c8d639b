"""Site XML reading and span editing: every byte not edited must come back unchanged."""

from __future__ import annotations

import os
import re
import xml.dom.minidom

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _hadoop_xml as hx

FIXTURES = os.path.join(os.path.dirname(__file__), '..', '..', 'fixtures', 'hadoop_xml')


def fixture(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return handle.read().decode('utf-8', 'surrogateescape')


def edit(text, properties, state='present', force=False):
    to_set, to_remove = hx.normalize(properties, state)
    return hx.parse(text).edit(set=to_set, remove=to_remove, force=force)


def replaced(text, *pairs):
    """`text` with each (old, new) pair replaced; each `old` must occur exactly once."""
    for old, new in pairs:
        assert text.count(old) == 1, 'fixture changed? %r occurs %d times' % (old, text.count(old))
        text = text.replace(old, new)
    return text


def hadoop_view(text):
    """name -> value of every property, read independently with minidom (last one wins)."""
    values = {}
    root = xml.dom.minidom.parseString(text.encode('utf-8', 'surrogateescape')).documentElement
    for prop in root.getElementsByTagName('property'):
        name = prop.getAttribute('name') or None
        value = prop.getAttribute('value') if prop.hasAttribute('value') else None
        for child in prop.childNodes:
            if child.nodeType != child.ELEMENT_NODE:
                continue
            content = ''.join(node.data for node in child.childNodes
                              if node.nodeType in (node.TEXT_NODE, node.CDATA_SECTION_NODE))
            if child.tagName == 'name':
                name = content.strip()
            elif child.tagName == 'value':
                value = content
        values[name] = value
    return values


# --- Reading ---------------------------------------------------------------------------------

@pytest.mark.parametrize('name, file, value, final', [
    ('fs.defaultFS', 'core-site.xml', 'hdfs://nn1.cluster.example.com:8020', True),
    # Hadoop trims names, never values.
    ('hadoop.proxyuser.livy.hosts', 'core-site.xml',
     'livy1.cluster.example.com,livy2.cluster.example.com', False),
    ('hadoop.security.auth_to_local', 'core-site.xml',
     '\n      RULE:[2:$1@$0](nn@.*CLUSTER.EXAMPLE.COM)s/.*/hdfs/\n      DEFAULT\n    ', False),
    ('net.topology.script.file.name', 'core-site.xml', '/etc/hadoop/conf/topology.sh --site "a&b"', False),
    ('hadoop.http.staticuser.user', 'core-site.xml', 'dr.who & friends', False),
    ('io.file.buffer.size', 'core-site.xml', '131072', False),
    ('fs.s3.buffer.dir', 'emr-core-site.xml', '/mnt/s3,/mnt1/s3', True),
    ('dfs.namenode.name.dir', 'hdfs-site-crlf-tabs.xml', 'file:///data/1/dfs/nn,file:///data/2/dfs/nn', True),
    ('yarn.resourcemanager.hostname', 'yarn-site-mixed.xml', 'rm.cluster.example.com', False),
    ('yarn.nodemanager.aux-services', 'yarn-site-mixed.xml', 'mapreduce_shuffle', False),
    # Duplicates: the last definition wins ...
    ('yarn.log-aggregation-enable', 'yarn-site-mixed.xml', 'true', False),
    # ... unless an earlier one is final.
    ('yarn.acl.enable', 'yarn-site-mixed.xml', 'true', True),
    ('no.such.property', 'core-site.xml', None, False),
])
def test_effective_value(name, file, value, final):
    assert hx.parse(fixture(file)).effective(name)[:2] == (value, final)


@pytest.mark.parametrize('text, line, column, message', [
    ('<configuration>\n  <property>\n</configuration>\n', 3, 3, 'mismatched tag'),
    ('<configuration>\n  <property><name>a</name><value>x & y</value></property>\n</configuration>',
     2, 37, 'not well-formed (invalid token)'),
    ('', 1, 1, 'no element found'),
    ('<configuration/>\n<configuration/>', 2, 1, 'junk after document element'),
    ('<?xml version="1.0"?>\n<conf/>\n', 2, 1, 'the root element is <conf>, not <configuration>'),
    ('<!DOCTYPE c [<!ENTITY a "aaaa">]>\n<configuration/>', 1, 25,
     'entity declarations are not allowed in a Hadoop configuration file'),
])
def test_parse_errors_name_line_and_column(text, line, column, message):
    with pytest.raises(hx.SiteXmlError) as caught:
        hx.parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert str(caught.value) == 'line %d, column %d: %s' % (line, column, message)


def test_final_only_when_exactly_true():
    text = ('<configuration><property><name>a</name><value>1</value><final> true </final></property>'
            '<property><name>b</name><value>1</value><final>TRUE</final></property></configuration>')
    doc = hx.parse(text)
    assert [prop.final for prop in doc.properties] == [False, False]


# --- Editing: the whole text is compared, so nothing else may move ----------------------------

EDITS = [
    pytest.param(
        'core-site.xml', {'hadoop.proxyuser.livy.groups': 'notebook-users'}, 'present', False,
        [('<value>*</value>', '<value>notebook-users</value>')], id='value-replaced-in-place'),
    pytest.param(
        'core-site.xml', {'hadoop.proxyuser.livy.hosts': 'livy1.cluster.example.com'}, 'present', False,
        [('<value>livy1.cluster.example.com,livy2.cluster.example.com</value>',
          '<value>livy1.cluster.example.com</value>')], id='name-with-whitespace-found'),
    pytest.param(
        'core-site.xml', {'net.topology.script.file.name': 'a<b & "c">'}, 'present', False,
        [('<![CDATA[/etc/hadoop/conf/topology.sh --site "a&b"]]>', 'a&lt;b &amp; "c"&gt;')],
        id='cdata-value-replaced-escaped'),
    pytest.param(
        'core-site.xml', {'fs.defaultFS': 'hdfs://nn2.cluster.example.com:8020'}, 'present', True,
        [('hdfs://nn1.cluster', 'hdfs://nn2.cluster')], id='final-with-force'),
    pytest.param(
        'core-site.xml', {'io.file.buffer.size': {'value': 131072, 'final': True}}, 'present', False,
        [('<final>false</final>', '<final>true</final>')], id='final-flag-set'),
    pytest.param(
        'core-site.xml',
        {'hadoop.tmp.dir': {'value': '/data/tmp/hadoop-${user.name}', 'description': 'Scratch & temp.'}},
        'present', False,
        [('A base for other temporary directories.', 'Scratch &amp; temp.')], id='description-set'),
    pytest.param(
        'core-site.xml', {'hadoop.proxyuser.livy.groups': {'value': '*', 'final': True}}, 'present', False,
        [('<value>*</value>\n', '<value>*</value>\n    <final>true</final>\n')], id='final-child-added'),
    pytest.param(
        'core-site.xml', {'ipc.client.connect.timeout': 20000, 'hadoop.security.authorization': True},
        'present', False,
        [('    <value>dr.who &amp; friends</value>\n  </property>\n</configuration>',
          '    <value>dr.who &amp; friends</value>\n  </property>\n'
          '  <property>\n    <name>ipc.client.connect.timeout</name>\n    <value>20000</value>\n  </property>\n'
          '  <property>\n    <name>hadoop.security.authorization</name>\n    <value>true</value>\n  </property>\n'
          '</configuration>')], id='new-properties-indented-like-neighbours'),
    pytest.param(
        'core-site.xml', ['hadoop.proxyuser.livy.hosts', 'io.file.buffer.size'], 'absent', False,
        [('  <property>\n    <name>\n      hadoop.proxyuser.livy.hosts\n    </name>\n'
          '    <value>livy1.cluster.example.com,livy2.cluster.example.com</value>\n  </property>\n', ''),
         ('  <property>\n    <name>io.file.buffer.size</name>\n    <value>131072</value>\n'
          '    <final>false</final>\n  </property>\n', '')], id='absent-removes-blocks-with-their-lines'),
    pytest.param(
        'emr-core-site.xml', {'hadoop.proxyuser.livy.groups': 'notebooks', 'hadoop.proxyuser.jupyter.hosts': '*'},
        'present', False,
        [('<name>hadoop.proxyuser.livy.groups</name>\n  <value>*</value>',
          '<name>hadoop.proxyuser.livy.groups</name>\n  <value>notebooks</value>'),
         ('LzopCodec</value>\n</property>\n\n</configuration>',
          'LzopCodec</value>\n</property>\n\n<property>\n  <name>hadoop.proxyuser.jupyter.hosts</name>\n'
          '  <value>*</value>\n</property>\n</configuration>')], id='emr-layout-copied'),
    pytest.param(
        'emr-core-site.xml', {'hadoop.proxyuser.hive.hosts': None}, 'absent', False,
        [('<property>\n  <name>hadoop.proxyuser.hive.hosts</name>\n  <value>*</value>\n</property>\n', '')],
        id='emr-absent'),
    pytest.param(
        'hdfs-site-crlf-tabs.xml', {'dfs.replication': 2, 'dfs.blocksize': '268435456'}, 'present', False,
        [('<value>3</value>', '<value>2</value>'),
         ('\t</property>\r\n</configuration>',
          '\t</property>\r\n\t<property>\r\n\t\t<name>dfs.blocksize</name>\r\n\t\t<value>268435456</value>\r\n'
          '\t</property>\r\n</configuration>')], id='crlf-and-tabs-kept'),
    pytest.param(
        'hdfs-site-crlf-tabs.xml', ['dfs.permissions.superusergroup'], 'absent', False,
        [('\t<property>\r\n\t\t<name>dfs.permissions.superusergroup</name>\r\n\t\t<value>hadoop</value>  \r\n'
          '\t</property>\r\n', '')], id='crlf-absent'),
    pytest.param(
        'yarn-site-mixed.xml', {'yarn.resourcemanager.hostname': "rm2's.example.com"}, 'present', False,
        [("value='rm.cluster.example.com'", "value='rm2&apos;s.example.com'")], id='short-form-attribute'),
    pytest.param(
        'yarn-site-mixed.xml', {'yarn.nodemanager.aux-services': 'spark_shuffle'}, 'present', False,
        [('<value>mapreduce_shuffle</value>', '<value>spark_shuffle</value>')], id='one-line-block'),
    pytest.param(
        'yarn-site-mixed.xml', {'yarn.nodemanager.vmem-check-enabled': False}, 'present', False,
        [('<value/>', '<value>false</value>')], id='empty-value-element'),
    pytest.param(
        'yarn-site-mixed.xml', {'yarn.log-aggregation-enable': 'false'}, 'present', False,
        [('<value>true</value>\n        <description>', '<value>false</value>\n        <description>')],
        id='duplicate-edits-the-definition-hadoop-uses'),
]


@pytest.mark.parametrize('file, properties, state, force, changes', EDITS)
def test_edit_changes_only_the_spans(file, properties, state, force, changes):
    before = fixture(file)
    outcome = edit(before, properties, state, force)
    assert outcome.text == replaced(before, *changes)
    assert outcome.changed
    # The result is well-formed and reads back as asked.
    view = hadoop_view(outcome.text)
    to_set, to_remove = hx.normalize(properties, state)
    for name, want in list(to_set.items()) + [(name, None) for name in to_remove]:
        if state == 'absent':
            assert name not in view
        elif file != 'yarn-site-mixed.xml':  # minidom does not know Hadoop's duplicate rules
            assert view[name] == want.value
        assert outcome.values[name] == (None if want is None else want.value)
    # Applying the same edit again changes nothing.
    again = edit(outcome.text, properties, state, force=True)
    assert not again.changed and again.text == outcome.text


@pytest.mark.parametrize('file, properties, state', [
    ('core-site.xml', {'fs.defaultFS': 'hdfs://nn1.cluster.example.com:8020'}, 'present'),
    ('core-site.xml', {'hadoop.proxyuser.livy.hosts': 'livy1.cluster.example.com,livy2.cluster.example.com'},
     'present'),
    ('core-site.xml', {'hadoop.http.staticuser.user': 'dr.who & friends'}, 'present'),
    ('core-site.xml', {'net.topology.script.file.name': '/etc/hadoop/conf/topology.sh --site "a&b"'}, 'present'),
    ('core-site.xml', {'io.file.buffer.size': {'value': 131072, 'final': False}}, 'present'),
    ('core-site.xml', ['not.there'], 'absent'),
    ('emr-core-site.xml', {'fs.s3.buffer.dir': '/mnt/s3,/mnt1/s3'}, 'present'),
    ('hdfs-site-crlf-tabs.xml', {'dfs.replication': 3}, 'present'),
    ('yarn-site-mixed.xml', {'yarn.acl.enable': True, 'yarn.log-aggregation-enable': True}, 'present'),
])
def test_equal_values_leave_the_file_alone(file, properties, state):
    before = fixture(file)
    outcome = edit(before, properties, state)
    assert not outcome.changed
    assert outcome.text == before


@pytest.mark.parametrize('file, properties, state, blocked', [
    ('core-site.xml', {'fs.defaultFS': 'file:///'}, 'present', {'fs.defaultFS': [20]}),
    ('core-site.xml', ['fs.defaultFS'], 'absent', {'fs.defaultFS': [20]}),
    ('hdfs-site-crlf-tabs.xml', {'dfs.namenode.name.dir': '/nn', 'dfs.replication': 1}, 'present',
     {'dfs.namenode.name.dir': [9]}),
    # The final definition wins over the later one: changing the name means changing it.
    ('yarn-site-mixed.xml', {'yarn.acl.enable': False}, 'present', {'yarn.acl.enable': [19]}),
])
def test_final_properties_need_force(file, properties, state, blocked):
    with pytest.raises(hx.FinalPropertyError) as caught:
        edit(fixture(file), properties, state)
    assert caught.value.names == blocked
    assert 'Set force: true' in str(caught.value)
    assert edit(fixture(file), properties, state, force=True).changed


def test_duplicates_are_reported():
    outcome = edit(fixture('yarn-site-mixed.xml'), {'yarn.log-aggregation-enable': 'true'})
    assert not outcome.changed
    assert outcome.warnings == [
        'yarn.log-aggregation-enable is defined 2 times in the file (lines 6, 14); Hadoop uses the last'
        ' definition, or the first one marked final.']


def test_absent_removes_every_definition():
    outcome = edit(fixture('yarn-site-mixed.xml'), ['yarn.acl.enable', 'yarn.log-aggregation-enable'],
                   'absent', force=True)
    doc = hx.parse(outcome.text)
    assert [prop.name for prop in doc.properties] == [
        'yarn.resourcemanager.hostname', 'yarn.nodemanager.aux-services', 'yarn.nodemanager.vmem-check-enabled']
    assert outcome.text.endswith('        <value/>\n    </property>\n</configuration>\n')


@pytest.mark.parametrize('before, after', [
    ('<configuration/>',
     '<configuration>\n  <property>\n    <name>a</name>\n    <value>1</value>\n  </property>\n</configuration>'),
    ('<configuration></configuration>\n',
     '<configuration>\n  <property>\n    <name>a</name>\n    <value>1</value>\n  </property>\n</configuration>\n'),
    ('<configuration><property><name>b</name><value>2</value></property></configuration>',
     '<configuration><property><name>b</name><value>2</value></property>\n'
     '<property><name>a</name><value>1</value></property>\n</configuration>'),
    (hx.new_document(),
     '<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>\n'
     '<configuration>\n  <property>\n    <name>a</name>\n    <value>1</value>\n  </property>\n</configuration>\n'),
])
def test_insert_into_sparse_files(before, after):
    assert edit(before, {'a': 1}).text == after


@pytest.mark.parametrize('before, after', [
    # A definition without a value gets one, after its name; final and description follow.
    ('<configuration>\n  <property>\n    <name>x</name>\n  </property>\n</configuration>\n',
     '<configuration>\n  <property>\n    <name>x</name>\n    <value>1</value>\n    <final>true</final>\n'
     '    <description>d</description>\n  </property>\n</configuration>\n'),
    # The short form stays short: every change lands in the one start tag.
    ('<configuration>\n  <property name="x"/>\n</configuration>\n',
     '<configuration>\n  <property name="x" value="1" final="true" description="d"/>\n</configuration>\n'),
    ('<configuration>\n  <property name="x" value=\'0\' final="false"></property>\n</configuration>\n',
     '<configuration>\n  <property name="x" value=\'1\' final="true" description="d"></property>\n'
     '</configuration>\n'),
])
def test_fields_added_in_the_form_the_property_uses(before, after):
    outcome = edit(before, {'x': {'value': 1, 'final': True, 'description': 'd'}})
    assert outcome.text == after
    assert not edit(after, {'x': {'value': 1, 'final': True, 'description': 'd'}}).changed


@pytest.mark.parametrize('value, written', [
    ('a & b < c > d', 'a &amp; b &lt; c &gt; d'),
    ('  spaced  ', '  spaced  '),
    ('line1\nline2', 'line1\nline2'),
    ('cr\rlf', 'cr&#13;lf'),
    ('ünïcödé', 'ünïcödé'),
    ('', ''),
])
def test_values_are_escaped_and_read_back(value, written):
    outcome = edit('<configuration>\n</configuration>\n', {'a': value})
    assert '<value>%s</value>' % written in outcome.text
    # Hadoop reads an empty <value></value> as no value at all.
    assert hx.parse(outcome.text).effective('a')[0] == (value or None)


def test_latin1_file_keeps_its_encoding():
    before = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<configuration>\n</configuration>\n'
    # A Latin-1 byte that is not UTF-8 comes through read_text as a surrogate.
    before = before.replace('<configuration>\n', '<configuration>\n<!-- caf\udce9 -->\n')
    outcome = edit(before, {'a': 'caf\u00e9 \u20ac'})
    data = outcome.text.encode('utf-8', 'surrogateescape')
    assert b'<!-- caf\xe9 -->' in data
    assert b'<value>caf\xe9 &#8364;</value>' in data


@pytest.mark.parametrize('properties, state, message', [
    ({' a': 1}, 'present', "property name ' a' has leading or trailing whitespace"),
    ({'': 1}, 'present', "property name '' is not a non-empty string"),
    ({'a': [1]}, 'present', 'property a: value must be a string, number or boolean, not list'),
    ({'a': {'value': 1, 'tag': 'x'}}, 'present', 'property a: unknown key(s) tag'),
    ({'a': {'final': True}}, 'present', 'property a: value is required'),
    ({'a': {'value': 1, 'final': 'yes'}}, 'present', 'property a: final must be true or false'),
    ({'a': 'bell\x07'}, 'present', 'the value of a contains U+0007'),
    (['a'], 'present', 'properties must be a dictionary of names to values'),
    ('a', 'absent', 'or, with state=absent, a list of names'),
])
def test_invalid_input(properties, state, message):
    with pytest.raises(ValueError) as caught:
        hx.normalize(properties, state)
    assert message in str(caught.value)


def test_yaml_values_become_hadoop_strings():
    desired = hx.normalize({'a': True, 'b': False, 'c': 3, 'd': 0.5, 'e': 'x'}, 'present')[0]
    assert {name: want.value for name, want in desired.items()} == {
        'a': 'true', 'b': 'false', 'c': '3', 'd': '0.5', 'e': 'x'}


def test_read_back_check_refuses_an_edit_that_would_not_take_effect():
    # The last <value> is the one edited, but an empty value does not replace the earlier one.
    text = '<configuration><property><name>a</name><value>x</value><value></value></property></configuration>'
    with pytest.raises(hx.EditError, match='after editing, a does not read back as asked'):
        edit(text, {'a': ''})


# --- Empty values, as Hadoop 3.3.6's Configuration reads them -------------------------------
# Parser.handleEndElement keeps a <value> only when its text is not empty; loadProperty skips a
# null value but still marks the name final; value="" in the short form is an empty value.

def site(*properties):
    return '<configuration>\n%s\n</configuration>\n' % '\n'.join(properties)


A1 = '<property><name>a</name><value>1</value></property>'
A_EMPTY = '<property><name>a</name><value></value></property>'
A2 = '<property><name>a</name><value>2</value></property>'
A_EMPTY_FINAL = '<property><name>a</name><value/><final>true</final></property>'


@pytest.mark.parametrize('text, value, final', [
    (site(A1, A_EMPTY), '1', False),
    (site(A_EMPTY, A1), '1', False),
    (site(A_EMPTY), None, False),
    (site('<property><name>a</name><value/></property>'), None, False),
    (site('<property name="a" value=""/>'), '', False),
    (site(A1, '<property name="a" value=""/>'), '', False),
    (site('<property name="a" value="x"><value></value></property>'), 'x', False),
    (site(A_EMPTY_FINAL, A2), None, True),
    (site(A1, A_EMPTY_FINAL, A2), '1', True),
    (site(A1, A_EMPTY, A_EMPTY), '1', False),
], ids=['empty after a value', 'empty before a value', 'empty alone', 'empty element', 'empty attribute',
        'empty attribute after a value', 'empty element keeps the attribute', 'valueless final locks',
        'value then valueless final', 'two empties'])
def test_empty_value_does_not_replace_a_value(text, value, final):
    assert hx.parse(text).effective('a')[:2] == (value, final)


@pytest.mark.parametrize('text, want, changed, value', [
    # Hadoop already reads 1: nothing to do.
    (site(A1, A_EMPTY), '1', False, '1'),
    # The value Hadoop reads comes from the first definition: that is the one edited.
    (site(A1, A_EMPTY), '3', True, '3'),
    # Wanting no value: every definition Hadoop loads loses its value.
    (site(A1, A_EMPTY, A2), '', True, None),
    (site(A_EMPTY), '', False, None),
])
def test_edits_follow_the_empty_value_rule(text, want, changed, value):
    outcome = edit(text, {'a': want})
    assert (outcome.changed, outcome.values) == (changed, {'a': value})
    assert hx.parse(outcome.text).effective('a')[0] == value
    assert not edit(outcome.text, {'a': want}).changed


def test_empty_value_under_a_valueless_final_needs_force():
    with pytest.raises(hx.FinalPropertyError):
        edit(site(A1, A_EMPTY_FINAL), {'a': ''})
    outcome = edit(site(A1, A_EMPTY_FINAL), {'a': ''}, force=True)
    assert outcome.values == {'a': None}


# --- Encodings: what Hadoop (Woodstox) reads, and what this module edits ----------------------

def raw(data):
    return data.decode('utf-8', 'surrogateescape')


BODY = '<configuration><property><name>a</name><value>caf\u00e9</value></property></configuration>\n'


@pytest.mark.parametrize('data, message', [
    (BODY.encode('utf-16'), 'the file is UTF-16 encoded; Hadoop reads such a file'),
    (BODY.encode('utf-16-le'), 'the file is UTF-16 encoded'),
    (BODY.encode('utf-16-be'), 'the file is UTF-16 encoded'),
    (BODY.encode('utf-32'), 'the file is UTF-32 encoded'),
    (BODY.encode('latin-1'), 'line 1, column 50: bytes that are not valid UTF-8 and no other encoding is'
                             ' declared; Hadoop reads the file as UTF-8 and fails on them'),
    (b'<?xml version="1.0" encoding="UTF-8"?>\n' + BODY.encode('latin-1'),
     'line 2, column 50: bytes that are not valid UTF-8; Hadoop'),
    # A surrogate encoded as UTF-8 is no UTF-8 either (Woodstox: "a surrogate character").
    (BODY.replace('\u00e9', 'x').encode().replace(b'cafx', b'caf\xed\xa0\x80'), 'line 1, column 50: bytes that are not valid UTF-8'),
])
def test_encodings_hadoop_reads_differently_are_refused_saying_why(data, message):
    with pytest.raises(hx.EncodingError) as caught:
        hx.parse(raw(data))
    assert message in str(caught.value)


@pytest.mark.parametrize('data', [
    b'\xef\xbb\xbf' + BODY.encode(),
    b'<?xml version="1.0" encoding="ISO-8859-1"?>\n' + BODY.encode('latin-1'),
], ids=['UTF-8 byte order mark', 'declared Latin-1'])
def test_encodings_hadoop_reads_are_edited(data):
    outcome = edit(raw(data), {'a': 'caf\u00e9', 'b': '\u00fc'})
    assert hx.parse(outcome.text).effective('a')[0] == 'caf\u00e9'
    assert hx.parse(outcome.text).effective('b')[0] == '\u00fc'
    assert outcome.text.encode('utf-8', 'surrogateescape').startswith(data.split(b'<configuration>')[0])


def test_lone_surrogate_in_a_wanted_value_is_refused():
    with pytest.raises(ValueError, match=re.escape('U+D800, which XML cannot represent')):
        hx.normalize({'a': 'x\ud800'}, 'present')


# --- Secrets in diffs --------------------------------------------------------------------------

SECRET_SITE = '''<?xml version="1.0"?>
<configuration>
  <property><name>fs.s3a.secret.key</name><value>S3cr&amp;t&lt;pw</value></property>
  <property><name>fs.azure.account.key.acct.blob.core.windows.net</name><value><![CDATA[Az<ure]]>K&#101;y</value></property>
  <property><name>ssl.server.keystore.password</name><value>pa<!-- split -->ss</value></property>
  <property name="fs.s3a.bucket.b.secret.key" value="attr&quot;secret"/>
  <property><name>fs.s3a.endpoint</name><value>s3.example.com</value></property>
</configuration>
'''
SECRET_FORMS = ['S3cr', 't&lt;pw', 'Az<ure', 'K&#101;y', 'Key', 'pa<!--', 'ss<', 'attr', 'secret"']


def test_display_hides_every_form_of_a_secret():
    placeholders = hx._sensitive.Placeholders()
    shown = hx.display_text(SECRET_SITE, hx._sensitive.Sensitive(), placeholders)
    for form in SECRET_FORMS:
        assert form not in shown
    assert 's3.example.com' in shown
    assert shown.count('********(secret ') == 4
    # Still well-formed, and every line not holding a secret is as it was.
    hx.parse(shown)
    assert [line for line in shown.splitlines() if 'secret ' not in line] == [
        line for line in SECRET_SITE.splitlines() if not any(form in line for form in SECRET_FORMS)]


def test_display_shows_that_a_secret_changed():
    placeholders = hx._sensitive.Placeholders()
    sensitive = hx._sensitive.Sensitive()
    after = edit(SECRET_SITE, {'fs.s3a.secret.key': 'n3w'}).text
    before_shown = hx.display_text(SECRET_SITE, sensitive, placeholders)
    after_shown = hx.display_text(after, sensitive, placeholders)
    changed = [(old, new) for old, new in zip(before_shown.splitlines(), after_shown.splitlines()) if old != new]
    assert changed == [(
        '  <property><name>fs.s3a.secret.key</name><value>********(secret 1)</value></property>',
        '  <property><name>fs.s3a.secret.key</name><value>********(secret 5)</value></property>')]


def test_a_file_may_add_sensitive_names():
    text = site('<property><name>hadoop.security.sensitive-config-keys</name><value>\n  my\\.token,\n'
                '  other$\n</value></property>')
    assert hx.sensitive_key_patterns(text) == ['my\\.token', 'other$']


def test_display_text_shows_a_long_list_one_item_a_line_and_leaves_short_values():
    users = ','.join('nbuser%05d' % index for index in range(20))
    text = ('<configuration>\n<property><name>hadoop.proxyuser.livy.users</name><value>%s</value></property>\n'
            '<property><name>short</name><value>a,b</value></property>\n</configuration>\n' % users)
    shown = hx.display_text(text, lambda name: False, None)
    assert '<value>\nnbuser00000,\nnbuser00001,\n' in shown and '\nnbuser00019,\n</value>' in shown
    assert '<value>a,b</value>' in shown
    # The file itself is untouched by the display: only the diff view is split.
    assert hx.parse(text).effective('hadoop.proxyuser.livy.users')[0] == users


def test_a_null_value_removes_the_property_in_the_same_edit_that_sets_others():
    before = ('<?xml version="1.0"?>\n<configuration>\n'
              '  <property><name>a</name><value>1</value></property>\n'
              '  <property><name>b</name><value>2</value></property>\n</configuration>\n')
    to_set, to_remove = hx.normalize({'a': None, 'b': 3, 'c': 'x'}, 'present')
    assert (list(to_set), to_remove) == (['b', 'c'], ['a'])
    outcome = hx.parse(before).edit(set=to_set, remove=to_remove)
    assert outcome.values == {'a': None, 'b': '3', 'c': 'x'}
    assert (outcome.added, outcome.updated, outcome.removed) == (['c'], ['b'], ['a'])
    assert '<name>a</name>' not in outcome.text and '<value>3</value>' in outcome.text
    assert '<name>c</name>' in outcome.text


def test_a_name_set_and_removed_is_refused():
    with pytest.raises(ValueError, match='names both set and removed: a'):
        hx.parse(hx.new_document()).edit(set={'a': hx.Desired('1')}, remove=['a'])


def test_a_name_listed_twice_for_removal_is_removed_once():
    text = '<configuration>\n  <property><name>a</name><value>1</value></property>\n</configuration>\n'
    outcome = edit(text, ['a', 'a'], 'absent')
    assert outcome.text == '<configuration>\n</configuration>\n' and outcome.removed == ['a']
