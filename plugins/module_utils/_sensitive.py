# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Which configuration values are secrets, and how they are hidden in results and diffs.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

import re

# The default of hadoop.security.sensitive-config-keys in Hadoop 3.3.6's core-default.xml, the
# names Hadoop itself redacts (ConfigRedactor):
#
#   secret$  password$  ssl.keystore.pass$  fs.s3a.server-side-encryption.key
#   fs.s3a.*.server-side-encryption.key  fs.s3a.encryption.algorithm  fs.s3a.encryption.key
#   fs.s3a.secret.key  fs.s3a.*.secret.key  fs.s3a.session.key  fs.s3a.*.session.key
#   fs.s3a.session.token  fs.s3a.*.session.token  fs.azure.account.key.*  fs.azure.oauth2.*
#   fs.adl.oauth2.*  fs.gs.encryption.*  fs.gs.proxy.*  fs.gs.auth.*  credential$
#   oauth.*secret  oauth.*password  oauth.*token  hadoop.security.sensitive-config-keys
HADOOP_SENSITIVE_CONFIG_KEYS = (
    'secret$', 'password$', 'ssl.keystore.pass$', 'fs.s3a.server-side-encryption.key',
    'fs.s3a.*.server-side-encryption.key', 'fs.s3a.encryption.algorithm', 'fs.s3a.encryption.key',
    'fs.s3a.secret.key', 'fs.s3a.*.secret.key', 'fs.s3a.session.key', 'fs.s3a.*.session.key',
    'fs.s3a.session.token', 'fs.s3a.*.session.token', 'fs.azure.account.key.*', 'fs.azure.oauth2.*',
    'fs.adl.oauth2.*', 'fs.gs.encryption.*', 'fs.gs.proxy.*', 'fs.gs.auth.*', 'credential$',
    'oauth.*secret', 'oauth.*password', 'oauth.*token', 'hadoop.security.sensitive-config-keys',
)
SENSITIVE_KEYS_PROPERTY = 'hadoop.security.sensitive-config-keys'
# Livy's own secrets (livy.keystore.password, livy.key-password, ...) plus tokens, whatever the case.
LIVY_SENSITIVE_KEYS = (r'(?i)password', r'(?i)secret', r'(?i)token$', r'(?i)tokenvalue$', r'(?i)credential')

# What a hidden value reads as in a result.
MASK = '********'


def split_key_list(text):
    """StringUtils.getTrimmedStrings, as ConfigRedactor splits the property: commas or newlines."""
    if text is None or not text.strip():
        return []
    return [item for item in re.split(r'\s*[,\n]\s*', text.strip()) if item]


class Sensitive:
    """Decides whether a key's value is a secret: a Java-style regex find() over the key."""

    def __init__(self, patterns=HADOOP_SENSITIVE_CONFIG_KEYS):
        self.patterns = []
        for pattern in patterns:
            self.add(pattern)

    def add(self, pattern):
        """Add one regex (Java syntax as far as Python shares it); an unusable one is skipped."""
        try:
            self.patterns.append(re.compile(pattern))
        except re.error:
            # Hadoop would fail to start on it; hiding nothing more is the safe outcome here.
            return False
        return True

    def __call__(self, key):
        return any(pattern.search(key) for pattern in self.patterns)

    def mask_values(self, values):
        """A copy of a name -> value dict with the values of sensitive names replaced by MASK."""
        return dict((key, MASK if value is not None and self(key) else value) for key, value in values.items())


class Placeholders:
    """One placeholder per distinct secret value, shared by a diff's before and after text.

    The same value reads the same on both sides and different values differ, so an operator sees
    that a line changed, never what it holds.
    """

    def __init__(self):
        self.numbers = {}

    def __call__(self, value):
        number = self.numbers.setdefault(value, len(self.numbers) + 1)
        return '%s(secret %d)' % (MASK, number)
