import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._proxyuser import (
    ProxyUserError,
    as_list,
    forbidden_users,
    proxyuser_properties,
)


def test_default_scope_names_hosts_and_users_only():
    present, absent, warnings = proxyuser_properties('livy', ['master-1', '10.0.0.5'], ['shirley', 'diego'])
    assert present == {
        'hadoop.proxyuser.livy.hosts': 'master-1,10.0.0.5',
        'hadoop.proxyuser.livy.users': 'shirley,diego',
    }
    assert absent == ['hadoop.proxyuser.livy.groups']
    assert warnings == []


def test_emr_guide_scope_warns_for_each_wildcard():
    present, absent, warnings = proxyuser_properties('livy', '*', None, '*')
    assert present == {'hadoop.proxyuser.livy.hosts': '*', 'hadoop.proxyuser.livy.groups': '*'}
    assert absent == ['hadoop.proxyuser.livy.users']
    assert len(warnings) == 2
    assert 'hadoop.proxyuser.livy.hosts is "*"' in warnings[0]
    assert 'hadoop.proxyuser.livy.groups is "*"' in warnings[1]


def test_comma_separated_strings_from_extra_vars():
    present, _absent, _warnings = proxyuser_properties('livy', 'a, b,,a', 'shirley,diego')
    assert present['hadoop.proxyuser.livy.hosts'] == 'a,b'
    assert present['hadoop.proxyuser.livy.users'] == 'shirley,diego'


@pytest.mark.parametrize('user', ['root', 'hdfs', 'yarn', 'mapred', 'livy', 'hdfsadmin'])
def test_service_accounts_are_refused(user):
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], ['shirley', user], hdfs_superuser='hdfsadmin')
    assert 'proxyuser_users must not contain %s' % user in str(error.value)


def test_all_refused_users_named_at_once():
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], ['root', 'shirley', 'hdfs'])
    assert 'must not contain root, hdfs' in str(error.value)


def test_invalid_user_names_refused():
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], ['ok', '../etc', 'a b'])
    assert "'../etc' contains \"/\"" in str(error.value)
    assert "'a b' contains whitespace" in str(error.value)


def test_wildcard_mixed_with_names_refused():
    with pytest.raises(ProxyUserError, match='mixes'):
        proxyuser_properties('livy', ['m1'], ['*', 'shirley'])
    with pytest.raises(ProxyUserError, match='mixes'):
        proxyuser_properties('livy', ['m1'], None, ['*', 'analysts'])


def test_hosts_required():
    with pytest.raises(ProxyUserError, match='proxyuser_hosts is empty'):
        proxyuser_properties('livy', [], ['shirley'])


def test_other_livy_user():
    present, _absent, _warnings = proxyuser_properties('svc-livy', ['m1'], ['shirley'])
    assert set(present) == {'hadoop.proxyuser.svc-livy.hosts', 'hadoop.proxyuser.svc-livy.users'}
    assert 'svc-livy' in forbidden_users('svc-livy', 'hdfs')


def test_as_list_rejects_non_strings():
    with pytest.raises(ProxyUserError, match='must contain strings only'):
        as_list(['a', 3], 'proxyuser_users')
    with pytest.raises(ProxyUserError, match='must be a list'):
        as_list({'a': 1}, 'proxyuser_users')


# Hub users are data: a name Hadoop's AccessControlList or Configuration reads specially is refused.
@pytest.mark.parametrize('users, reason', [
    (['*'], None),  # the operator's own "*" alone: accepted, with a warning
    (['shirley', '${user.name}'], "'${user.name}' contains \"${\""),
    (['${env.X-', 'hdfs}'], "'${env.X-' contains \"${\""),
    (['-rf'], "'-rf' starts with \"-\""),
    (['a\nb'], 'control character (U+000A)'),
])
def test_user_names_hadoop_reads_specially(users, reason):
    if reason is None:
        present, _absent, warnings = proxyuser_properties('livy', ['m1'], users)
        assert present['hadoop.proxyuser.livy.users'] == '*'
        assert 'hadoop.proxyuser.livy.users is "*"' in warnings[0]
        return
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], users)
    assert reason in str(error.value) and 'Invalid user name(s) in proxyuser_users' in str(error.value)


@pytest.mark.parametrize('groups, reason', [
    (['analysts', 'data team'], "'data team' contains whitespace"),
    (['analysts', 'a\nb'], "'a\\nb' contains a control character (U+000A)"),
    (['a,b'], None),  # a comma-separated string is two groups, as with -e
    (['${hadoop.security.group}'], "contains \"${\""),
    (['-x'], "starts with \"-\""),
])
def test_group_names_are_validated_like_user_names(groups, reason):
    if reason is None:
        present, _absent, _warnings = proxyuser_properties('livy', ['m1'], ['shirley'], ','.join(groups))
        assert present['hadoop.proxyuser.livy.groups'] == 'a,b'
        return
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], ['shirley'], groups)
    assert 'Invalid group name(s) in proxyuser_groups: ' in str(error.value) and reason in str(error.value)


@pytest.mark.parametrize('superusergroup', ['supergroup', 'hadoop'])
def test_hdfs_superuser_group_is_refused(superusergroup):
    kwargs = {} if superusergroup == 'supergroup' else {'hdfs_superusergroup': superusergroup}
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1'], None, ['analysts', superusergroup], **kwargs)
    assert 'proxyuser_groups must not contain %s: it is the HDFS superuser group' % superusergroup in str(error.value)
    # Another cluster's superuser group is an ordinary group here.
    present, _absent, warnings = proxyuser_properties('livy', ['m1'], None, ['hadoop'], hdfs_superusergroup='admins')
    assert present['hadoop.proxyuser.livy.groups'] == 'hadoop'
    assert warnings == ['hadoop.proxyuser.livy.groups lets Livy impersonate every member of hadoop: make sure '
                        'none of root, hdfs, yarn, mapred, livy belongs to them.']


def test_invalid_superusergroup_refused():
    with pytest.raises(ProxyUserError, match="Invalid group name.*in hdfs_superusergroup: 'a b' contains whitespace"):
        proxyuser_properties('livy', ['m1'], ['shirley'], hdfs_superusergroup='a b')


@pytest.mark.parametrize('hosts', [
    ['master-1', 'master-1.example.com', 'master-1.example.com.', 'ip-10-0-0-5.ec2.internal', 'a_b'],
    ['10.0.0.5', '10.0.0.0/8', '10.0.0.1/24', '192.168.1.0/32'],
    ['::1', 'fe80::1', '[::1]', '2001:db8::5'],
])
def test_host_entries_machinelist_reads(hosts):
    present, _absent, warnings = proxyuser_properties('livy', hosts, ['shirley'])
    assert present['hadoop.proxyuser.livy.hosts'] == ','.join(hosts)
    assert warnings == []


@pytest.mark.parametrize('entry, reason', [
    ('master 1', 'contains whitespace or a control character (U+0020)'),
    ('m1\n', None),  # stripped by as_list, as Hadoop trims
    ('m1\tm2', 'contains whitespace or a control character (U+0009)'),
    ('m1\x00', 'control character (U+0000)'),
    ('::/0', 'is an IPv6 range'),
    ('2001:db8::/32', 'is an IPv6 range'),
    ('10.0.0.0/33', 'is not a CIDR range'),
    ('10.0.0/8', 'is not a CIDR range'),
    ('10.1', 'is not an IPv4 address'),
    ('10.0.0.256', 'is not an IPv4 address'),
    ('-m1', 'is not a host name'),
    ('m1-.example.com', 'is not a host name'),
    ('m1..example.com', 'is not a host name'),
    ('${env.HOST}', 'is not a host name'),
    ('a*', 'is not a host name'),
])
def test_host_entries_machinelist_cannot_read_are_refused(entry, reason):
    if reason is None:
        present, _absent, _warnings = proxyuser_properties('livy', [entry], ['shirley'])
        assert present['hadoop.proxyuser.livy.hosts'] == entry.strip()
        return
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['m1', entry], ['shirley'])
    message = str(error.value)
    assert message.startswith('Invalid host entry in proxyuser_hosts: %r ' % entry) and reason in message


def test_every_invalid_host_named_at_once():
    with pytest.raises(ProxyUserError) as error:
        proxyuser_properties('livy', ['ok', 'a b', '::/0'], ['shirley'])
    assert "Invalid host entries in proxyuser_hosts: 'a b' contains" in str(error.value)
    assert "'::/0' is an IPv6 range" in str(error.value)


def test_wildcard_mixed_with_hosts_refused():
    with pytest.raises(ProxyUserError, match='proxyuser_hosts mixes "\\*" with host entries'):
        proxyuser_properties('livy', ['*', 'm1'], ['shirley'])


@pytest.mark.parametrize('hosts', [['0.0.0.0/0'], ['10.0.0.0/0', 'm1'], ['0.0.0.0/1', '128.0.0.0/1'],
                                   ['m1', '10.9.9.9', '0.0.0.0/1', '128.0.0.0/2', '192.0.0.0/2']])
def test_ranges_covering_every_ipv4_address_warn_like_wildcard(hosts):
    present, _absent, warnings = proxyuser_properties('livy', hosts, ['shirley'])
    assert present['hadoop.proxyuser.livy.hosts'] == ','.join(hosts)
    assert len(warnings) == 1
    assert warnings[0].startswith('hadoop.proxyuser.livy.hosts (%s) covers every IPv4 address, the same as "*"'
                                  % ','.join(hosts))


def test_ranges_short_of_everything_do_not_warn():
    _present, _absent, warnings = proxyuser_properties('livy', ['0.0.0.0/1', '128.0.0.0/2'], ['shirley'])
    assert warnings == []
