import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    name_problem,
)


@pytest.mark.parametrize('name', ['shirley', 'diego', 'jo.doe', 'a-b_c', 'user@REALM', 'émile', '123'])
def test_usable_names(name):
    assert name_problem(name) is None


@pytest.mark.parametrize('name, reason', [
    ('', 'is empty'),
    ('.', 'is a path component (.)'),
    ('..', 'is a path component (..)'),
    ('a/b', 'contains "/"'),
    ('/', 'contains "/"'),
    ('a b', 'contains whitespace'),
    ('tab\there', 'contains a control character (U+0009)'),
    ('nl\n', 'contains a control character (U+000A)'),
    ('nbsp\u00a0x', 'contains whitespace'),
    ('zw\u200bj', 'contains a control character (U+200B)'),
    ('a,b', 'contains ","'),
    ('a:b', 'contains ":"'),
    (None, 'is not a string'),
    (7, 'is not a string'),
])
def test_unusable_names(name, reason):
    assert name_problem(name) == reason


def test_every_offender_is_reported_in_order():
    problems = invalid_names(['ok', '', 'a b', 'fine', '..'])
    assert [name for name, _reason in problems] == ['', 'a b', '..']
    message = describe_invalid_names('users', problems)
    assert message.startswith('Invalid user name(s) in users: ')
    assert "'' is empty" in message and "'a b' contains whitespace" in message and "'..' is a path" in message
