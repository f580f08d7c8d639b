import json

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._emr import emr_configurations

EMR_GUIDE = json.loads('''
[
  {"Classification": "livy-conf", "Properties": {"livy.impersonation.enabled": "true"}},
  {"Classification": "core-site", "Properties": {"hadoop.proxyuser.livy.groups": "*",
                                                 "hadoop.proxyuser.livy.hosts": "*"}}
]''')


def test_emr_guide_classifications():
    result = emr_configurations({
        'core-site': {'hadoop.proxyuser.livy.hosts': '*', 'hadoop.proxyuser.livy.groups': '*'},
        'livy-conf': {'livy.impersonation.enabled': True},
    })
    assert result == EMR_GUIDE
    assert json.dumps(result) == json.dumps(EMR_GUIDE)


@pytest.mark.parametrize('value, text', [(True, 'true'), (False, 'false'), (8998, '8998'), ('x', 'x')])
def test_values_become_strings(value, text):
    assert emr_configurations({'livy-conf': {'k': value}})[0]['Properties']['k'] == text


def test_empty_classifications_left_out_and_unknown_ones_sorted_last():
    result = emr_configurations({'zeta': {'a': 1}, 'alpha': {'b': 2}, 'livy-conf': {}, 'core-site': {'c': 3}})
    assert [item['Classification'] for item in result] == ['core-site', 'alpha', 'zeta']


@pytest.mark.parametrize('bad', [[], {'livy-conf': ['a']}, {'livy-conf': {'k': [1]}}])
def test_bad_input_is_refused(bad):
    with pytest.raises(ValueError):
        emr_configurations(bad)
