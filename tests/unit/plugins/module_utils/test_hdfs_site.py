"""NameNode addresses from hdfs-site.xml / core-site.xml, HA included."""

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_site import (
    HadoopSiteError,
    address_to_url,
    expand,
    find_conf_dir,
    hdfs_superusergroup,
    namenode_addresses,
    namenode_urls,
    parse_site_xml,
    superusergroup_from_texts,
)


def xml(pairs):
    body = ''.join('  <property>\n    <name>%s</name>\n    <value>%s</value>\n  </property>\n' % pair for pair in pairs)
    return '<?xml version="1.0"?>\n<?xml-stylesheet type="text/xsl" href="configuration.xsl"?>\n' \
           '<configuration>\n%s</configuration>\n' % body


HA = {
    'dfs.nameservices': 'mycluster',
    'dfs.ha.namenodes.mycluster': 'nn1, nn2',
    'dfs.namenode.rpc-address.mycluster.nn1': 'm1.example.com:8020',
    'dfs.namenode.http-address.mycluster.nn1': 'm1.example.com:9870',
    'dfs.namenode.http-address.mycluster.nn2': 'm2.example.com:9870',
    'dfs.namenode.https-address.mycluster.nn1': 'm1.example.com:9871',
    'dfs.namenode.https-address.mycluster.nn2': 'm2.example.com:9871',
}


def test_parse_site_xml_later_property_wins_and_values_are_stripped():
    text = xml([('a', ' 1 '), ('c', ' 2 '), ('a', '3')])
    assert parse_site_xml(text) == {'a': '3', 'c': '2'}


@pytest.mark.parametrize('body, expected', [
    # An empty <value> leaves the property as it was: unset, or its earlier value.
    ('<property><name>b</name><value></value></property>', {}),
    ('<property><name>b</name><value>x</value></property><property><name>b</name><value/></property>', {'b': 'x'}),
    # A final value stays, whatever comes later.
    ('<property><name>b</name><value>x</value><final>true</final></property>'
     '<property><name>b</name><value>y</value></property>', {'b': 'x'}),
    # Attributes, as Hadoop reads them too.
    ('<property name="b" value="z"/>', {'b': 'z'}),
])
def test_parse_site_xml_follows_hadoops_rules_as_hadoop_config_does(body, expected):
    assert parse_site_xml('<configuration>%s</configuration>' % body) == expected


def test_parse_site_xml_refuses_broken_xml():
    with pytest.raises(HadoopSiteError, match='not well-formed'):
        parse_site_xml('<configuration><property>')


@pytest.mark.parametrize('hdfs_site, core_site, expected', [
    # Nothing configured: the NameNode's default web port on the host of fs.defaultFS.
    ({}, {'fs.defaultFS': 'hdfs://master.example.com:8020'}, ('http', ['master.example.com:9870'])),
    ({}, {}, ('http', ['0.0.0.0:9870'])),
    ({'dfs.namenode.http-address': 'master:50070'}, {}, ('http', ['master:50070'])),
    ({'dfs.http.policy': 'HTTPS_ONLY', 'dfs.namenode.https-address': 'master:9871',
      'dfs.namenode.http-address': 'master:9870'}, {}, ('https', ['master:9871'])),
    ({'dfs.http.policy': 'HTTPS_ONLY'}, {}, ('https', ['0.0.0.0:9871'])),
    ({'dfs.http.policy': 'HTTP_AND_HTTPS', 'dfs.namenode.http-address': 'm:9870'}, {}, ('http', ['m:9870'])),
    # HA: every NameNode of the nameservice, in dfs.ha.namenodes order.
    (HA, {'fs.defaultFS': 'hdfs://mycluster'}, ('http', ['m1.example.com:9870', 'm2.example.com:9870'])),
    (HA, {}, ('http', ['m1.example.com:9870', 'm2.example.com:9870'])),
    (dict(HA, **{'dfs.http.policy': 'HTTPS_ONLY'}), {}, ('https', ['m1.example.com:9871', 'm2.example.com:9871'])),
    # Federation: fs.defaultFS picks the nameservice.
    (dict(HA, **{'dfs.nameservices': 'other,mycluster', 'dfs.namenode.http-address.other': 'o:9870'}),
     {'fs.defaultFS': 'hdfs://mycluster/'}, ('http', ['m1.example.com:9870', 'm2.example.com:9870'])),
    (dict(HA, **{'dfs.nameservices': 'other,mycluster', 'dfs.namenode.http-address.other': 'o:9870'}),
     {'fs.defaultFS': 'hdfs://other'}, ('http', ['o:9870'])),
    # dfs.internal.nameservices names this cluster's own among several known ones.
    (dict(HA, **{'dfs.nameservices': 'remote,mycluster', 'dfs.internal.nameservices': 'mycluster'}), {},
     ('http', ['m1.example.com:9870', 'm2.example.com:9870'])),
    # ${var} expansion as Hadoop's Configuration does it.
    ({'nn.host': 'm1', 'dfs.namenode.http-address': '${nn.host}:9870'}, {}, ('http', ['m1:9870'])),
])
def test_namenode_addresses(hdfs_site, core_site, expected):
    assert namenode_addresses(hdfs_site, core_site) == expected


def test_several_nameservices_without_a_choice_is_an_error():
    with pytest.raises(HadoopSiteError, match=r'several nameservices \(a, b\).*namenode_url'):
        namenode_addresses({'dfs.nameservices': 'a,b'}, {})


def test_ha_namenode_without_address_is_named():
    hdfs_site = dict(HA)
    del hdfs_site['dfs.namenode.http-address.mycluster.nn2']
    with pytest.raises(HadoopSiteError, match='nn2 of nameservice mycluster has no dfs.namenode.http-address.mycluster.nn2'):
        namenode_addresses(hdfs_site)


@pytest.mark.parametrize('scheme, address, url', [
    ('http', 'm1:9870', 'http://m1:9870'),
    ('http', '0.0.0.0:9870', 'http://localhost:9870'),
    ('https', '[::]:9871', 'https://localhost:9871'),
    ('http', 'm1', 'http://m1:9870'),
    ('https', 'm1', 'https://m1:9871'),
])
def test_address_to_url(scheme, address, url):
    assert address_to_url(scheme, address) == url


def test_wildcard_host_is_replaceable():
    assert address_to_url('http', '0.0.0.0:9870', wildcard_host='master.example.com') == 'http://master.example.com:9870'


def test_expand_stops_on_unknown_and_on_loops():
    assert expand({'a': 'x'}, '${a}-${b}') == 'x-${b}'
    assert expand({'a': '${a}'}, '${a}') == '${a}'


def test_namenode_urls_from_a_conf_dir(tmp_path):
    (tmp_path / 'hdfs-site.xml').write_text(xml(sorted(HA.items())))
    (tmp_path / 'core-site.xml').write_text(xml([('fs.defaultFS', 'hdfs://mycluster')]))
    assert namenode_urls(str(tmp_path)) == ['http://m1.example.com:9870', 'http://m2.example.com:9870']


def test_conf_dir_search_order(tmp_path):
    env_dir = tmp_path / 'env'
    home = tmp_path / 'home'
    (home / 'etc' / 'hadoop').mkdir(parents=True)
    (home / 'etc' / 'hadoop' / 'hdfs-site.xml').write_text(xml([]))
    env_dir.mkdir()
    environ = {'HADOOP_CONF_DIR': str(env_dir), 'HADOOP_HOME': str(home)}
    # HADOOP_CONF_DIR has no hdfs-site.xml: the next candidate is used.
    assert find_conf_dir(environ=environ) == str(home / 'etc' / 'hadoop')
    (env_dir / 'hdfs-site.xml').write_text(xml([]))
    assert find_conf_dir(environ=environ) == str(env_dir)


def test_explicit_conf_dir_without_hdfs_site_is_an_error(tmp_path):
    with pytest.raises(HadoopSiteError, match='no hdfs-site.xml in %s' % tmp_path):
        find_conf_dir(str(tmp_path))


SITE = '<?xml version="1.0"?>\n<configuration>\n%s</configuration>\n'


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_text(SITE % body)
    return str(path)


@pytest.mark.parametrize('body, group', [
    ('', 'supergroup'),
    ('<property><name>dfs.replication</name><value>1</value></property>', 'supergroup'),
    ('<property><name>dfs.permissions.superusergroup</name><value>hadoop</value></property>', 'hadoop'),
    # The last value wins ...
    ('<property><name>dfs.permissions.superusergroup</name><value>a</value></property>'
     '<property><name>dfs.permissions.superusergroup</name><value>b</value></property>', 'b'),
    # ... unless an earlier one is final ("true" exactly, element or attribute) ...
    ('<property><name>dfs.permissions.superusergroup</name><value>a</value><final>true</final></property>'
     '<property><name>dfs.permissions.superusergroup</name><value>b</value></property>', 'a'),
    ('<property name="dfs.permissions.superusergroup" value="a" final="true"/>'
     '<property><name>dfs.permissions.superusergroup</name><value>b</value></property>', 'a'),
    ('<property><name>dfs.permissions.superusergroup</name><value>a</value><final>TRUE</final></property>'
     '<property><name>dfs.permissions.superusergroup</name><value>b</value></property>', 'b'),
    # ... and an empty value is skipped, leaving the earlier one.
    ('<property><name>dfs.permissions.superusergroup</name><value>a</value></property>'
     '<property><name>dfs.permissions.superusergroup</name><value></value></property>', 'a'),
    ('<property><name>dfs.permissions.superusergroup</name><value/></property>', 'supergroup'),
    # A final property with no value still stops later values.
    ('<property><name>dfs.permissions.superusergroup</name><final>true</final></property>'
     '<property><name>dfs.permissions.superusergroup</name><value>b</value></property>', 'supergroup'),
    # Names are trimmed; the old name is still read; ${...} is expanded from the file.
    ('<property><name> dfs.permissions.superusergroup\n</name><value>hadoop</value></property>', 'hadoop'),
    ('<property><name>dfs.permissions.supergroup</name><value>old</value></property>', 'old'),
    ('<property><name>my.admins</name><value>admins</value></property>'
     '<property><name>dfs.permissions.superusergroup</name><value>${my.admins}</value></property>', 'admins'),
    ('<property><name>dfs.permissions.superusergroup</name><value> hadoop </value></property>', 'hadoop'),
    ('<property><name>dfs.permissions.superusergroup</name><value>  </value></property>', 'supergroup'),
    ('<property><name>dfs.permissions.superusergroup</name><value>ha<!-- x -->doop</value></property>', 'hadoop'),
])
def test_hdfs_superusergroup_follows_hadoop_configuration_rules(tmp_path, body, group):
    assert hdfs_superusergroup(write(tmp_path, 'hdfs-site.xml', body)) == group


def test_hdfs_superusergroup_core_site_first_and_its_finals_hold(tmp_path):
    hdfs_site = write(tmp_path, 'hdfs-site.xml',
                      '<property><name>dfs.permissions.superusergroup</name><value>h</value></property>')
    plain = write(tmp_path, 'core-site.xml',
                  '<property><name>dfs.permissions.superusergroup</name><value>c</value></property>')
    assert hdfs_superusergroup(hdfs_site, plain) == 'h'
    final = write(tmp_path, 'core-final.xml',
                  '<property><name>dfs.permissions.superusergroup</name><value>c</value><final>true</final></property>')
    assert hdfs_superusergroup(hdfs_site, final) == 'c'


def test_hdfs_superusergroup_missing_file_is_the_default(tmp_path):
    assert hdfs_superusergroup(str(tmp_path / 'hdfs-site.xml')) == 'supergroup'


def test_hdfs_superusergroup_broken_xml_names_the_file(tmp_path):
    path = tmp_path / 'hdfs-site.xml'
    path.write_text('<configuration><property>')
    with pytest.raises(HadoopSiteError, match='%s: not well-formed XML' % path):
        hdfs_superusergroup(str(path))


def test_superusergroup_from_texts_in_load_order():
    core = SITE % '<property><name>dfs.permissions.superusergroup</name><value>c</value></property>'
    hdfs = SITE % '<property><name>dfs.permissions.superusergroup</name><value>h</value></property>'
    assert superusergroup_from_texts([core, hdfs]) == 'h'
    assert superusergroup_from_texts([hdfs, core]) == 'c'
    assert superusergroup_from_texts([]) == 'supergroup'
