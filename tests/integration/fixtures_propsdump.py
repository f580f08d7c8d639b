"""The independent readers the config modules' results are checked with: Java's Properties.load (as
Livy reads livy.conf) and Hadoop 3.3.6's Configuration (as Hadoop reads a site file), both through
the one fixture program tests/unit/java/PropsDump.java, which the unit tests use too.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess

import pytest

from playbook import REPO_ROOT

_spec = importlib.util.spec_from_file_location('propsdump', os.path.join(REPO_ROOT, 'tests', 'unit', 'java',
                                                                         'propsdump.py'))
propsdump = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(propsdump)


@pytest.fixture(scope='module')
def java_properties(tmp_path_factory):
    """load(path) -> what Properties.load reads from the file: a dict, or 'refused'."""
    load = propsdump.build(tmp_path_factory.mktemp('propsdump'))
    return lambda path: load('properties', [path])[str(path)]


@pytest.fixture(scope='module')
def hadoop_conf(tmp_path_factory):
    """load(*paths) -> {path: {name: (raw value or None, final)} or 'refused'}, read by Hadoop 3.3.6's
    org.apache.hadoop.conf.Configuration in one JVM (the Hadoop rig's jars, no daemons needed)."""
    home = subprocess.run([os.path.join(REPO_ROOT, 'tests', 'rigs', 'hadoop', 'install')], check=True,
                          capture_output=True, text=True).stdout.strip()
    load = propsdump.build(tmp_path_factory.mktemp('propsdump'), os.path.join(home, 'share', 'hadoop', 'lib', '*'))
    return lambda *paths: load('hadoop', paths)
