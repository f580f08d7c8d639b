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
