import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    name_problem,
)


@pytest.mark.parametrize('name', ['shirley', 'diego', 'jo.doe', 'a-b_c', 'user@REALM', 'émile', '123',
                                  # Only "*" alone and "${" are special to Hadoop's parsers.
                                  'a*b', '$x', 'a$', '{x}', 'x-'])
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
    # Hadoop reads these specially in hadoop.proxyuser.<livy>.users (AccessControlList,
    # Configuration.substituteVars); hdfs dfs reads a leading "-" as an option.
    ('*', 'is "*", which Hadoop reads as "every user"'),
    ('${user.name}', 'contains "${", which Hadoop expands as a variable'),
    ('${env.X-', 'contains "${", which Hadoop expands as a variable'),
    ('a${b}', 'contains "${", which Hadoop expands as a variable'),
    ('-rf', 'starts with "-", which commands read as an option'),
    ('-', 'starts with "-", which commands read as an option'),
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
