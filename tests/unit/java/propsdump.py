"""Builds and runs PropsDump.java, the independent reader of configuration files the tests compare
the collection's parsers with: Java's Properties.load (livy.conf) or Hadoop's Configuration (site XML).

Imported by path (tests/unit and tests/integration are not packages): see load_helper() in the callers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'PropsDump.java')


def build(classes, classpath=None):
    """Compile PropsDump into the directory `classes`; returns load(mode, paths).

    load('properties' or 'hadoop', paths) -> {path: {key: value} or 'refused'}, one JVM for all the
    paths; in hadoop mode each value is (raw value or None, final) and `classpath` must hold
    Hadoop's jars.
    """
    javac, java = shutil.which('javac'), shutil.which('java')
    if not javac or not java:
        pytest.fail('javac/java not found: these tests check the parsers against Java\'s own readers and need'
                    ' a JDK (Debian: apt-get install openjdk-17-jdk-headless).')
    subprocess.run([javac, '-d', str(classes), SOURCE], check=True)
    search = os.pathsep.join([str(classes)] + ([classpath] if classpath else []))

    def load(mode, paths):
        out = subprocess.run([java, '-cp', search, 'PropsDump', mode, *map(str, paths)], check=True,
                             capture_output=True, text=True, encoding='utf-8').stdout
        found, current = {}, None
        for line in out.splitlines():
            if line.startswith('== '):
                current = line[3:]
                found[current] = {}
            elif line.startswith('!! '):
                found[current] = 'refused'
            else:
                row = json.loads(line)
                found[current][row[0]] = row[1] if len(row) == 2 else tuple(row[1:])
        return found
    return load
