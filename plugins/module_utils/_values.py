# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The one way a YAML scalar becomes a configuration value (livy.conf, *-site.xml, EMR classifications).

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations


def config_text(value):
    """The string Livy and Hadoop should read for a YAML scalar: booleans as they parse them (true/false).

    Raises TypeError for anything but a string, number or boolean.
    """
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float, str)):
        return str(value)
    raise TypeError('must be a string, number or boolean, not %s' % type(value).__name__)
