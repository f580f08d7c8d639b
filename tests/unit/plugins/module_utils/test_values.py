"""The one scalar-to-text rule of livy.conf, site XML and EMR classifications."""

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._emr import emr_value
from ansible_collections.datalake.notebooks.plugins.module_utils._values import config_text


@pytest.mark.parametrize('value, expected', [
    (True, 'true'), (False, 'false'), (8998, '8998'), (0.5, '0.5'), ('True', 'True'), ('', ''),
])
def test_config_text(value, expected):
    assert config_text(value) == expected
    assert emr_value(value) == expected


@pytest.mark.parametrize('value', [None, ['a'], {'a': 1}])
def test_config_text_refuses(value):
    with pytest.raises(TypeError, match='must be a string, number or boolean, not'):
        config_text(value)
