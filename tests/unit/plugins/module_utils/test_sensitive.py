"""Which names are secrets: Hadoop's own list (hadoop.security.sensitive-config-keys) and Livy's."""

from __future__ import annotations

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils import _sensitive as sv


@pytest.mark.parametrize('name, sensitive', [
    ('fs.s3a.secret.key', True),
    ('fs.s3a.bucket.logs.secret.key', True),
    ('fs.s3a.session.token', True),
    ('fs.s3a.encryption.key', True),
    ('fs.azure.account.key.acct.blob.core.windows.net', True),
    ('fs.azure.oauth2.client.secret', True),
    ('ssl.server.keystore.password', True),
    ('ssl.server.keystore.pass', False),  # 'ssl.keystore.pass$' does not match '.server.'
    ('hadoop.security.credstore.java-keystore-provider.password-file', False),
    ('dfs.webhdfs.oauth2.access.token', True),
    ('hadoop.security.sensitive-config-keys', True),
    ('fs.s3a.access.key', False),
    ('fs.s3a.endpoint', False),
    ('hadoop.proxyuser.livy.hosts', False),
    # Java's find(), case-sensitive like Hadoop.
    ('my.PASSWORD', False),
])
def test_hadoop_names(name, sensitive):
    assert sv.Sensitive()(name) is sensitive


def test_livy_names_ignore_case():
    livy = sv.Sensitive(sv.HADOOP_SENSITIVE_CONFIG_KEYS + sv.LIVY_SENSITIVE_KEYS)
    assert livy('livy.keystore.password') and livy('livy.key-password') and livy('livy.some.PASSWORD')
    assert livy('livy.server.auth.token') and not livy('livy.server.port')


def test_key_list_splits_like_getTrimmedStrings():
    assert sv.split_key_list('  a$ ,\n  b.*c\n\n, d ') == ['a$', 'b.*c', 'd']
    assert sv.split_key_list('   ') == [] and sv.split_key_list(None) == []


def test_placeholders_differ_per_value_and_repeat_per_value():
    placeholders = sv.Placeholders()
    assert [placeholders(value) for value in ('x', 'y', 'x')] == [
        '********(secret 1)', '********(secret 2)', '********(secret 1)']


def test_mask_values():
    assert sv.Sensitive().mask_values({'fs.s3a.secret.key': 's', 'a': 'b', 'x.password': None}) == {
        'fs.s3a.secret.key': '********', 'a': 'b', 'x.password': None}
