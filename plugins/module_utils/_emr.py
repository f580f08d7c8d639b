# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Amazon EMR configuration classifications, the cluster-creation form of config-file edits.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations

from ansible_collections.datalake.notebooks.plugins.module_utils._values import config_text

# EMR writes each classification to one file; these are the ones the role edits.
CLASSIFICATION_ORDER = ('livy-conf', 'core-site', 'hdfs-site', 'yarn-site')


def emr_value(value):
    """EMR Properties are strings; booleans are written the way Hadoop and Livy parse them."""
    try:
        return config_text(value)
    except TypeError:
        raise ValueError('EMR property values must be strings, numbers or booleans, got %r.' % (value,))


def emr_configurations(classifications):
    """[{'Classification': name, 'Properties': {...}}, ...] for a mapping name -> properties.

    Known classifications come first in a fixed order, then others by name; properties are sorted
    by key; classifications without properties are left out.
    """
    if not isinstance(classifications, dict):
        raise ValueError('expected a mapping of classification name to properties, got %s.'
                         % type(classifications).__name__)
    names = [name for name in CLASSIFICATION_ORDER if name in classifications]
    names += sorted(name for name in classifications if name not in CLASSIFICATION_ORDER)
    result = []
    for name in names:
        properties = classifications[name] or {}
        if not isinstance(properties, dict):
            raise ValueError('properties of classification %r must be a mapping.' % name)
        if properties:
            result.append({
                'Classification': name,
                'Properties': {key: emr_value(properties[key]) for key in sorted(properties)},
            })
    return result
