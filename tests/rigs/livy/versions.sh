# shellcheck shell=bash
# Versions the Livy rig pins (sourced by install).
# shellcheck disable=SC2034
LIVY_VERSION=0.7.1-incubating      # newest Livy on Maven Central, see pom.xml
HADOOP_CLIENT_VERSION=3.3.6        # same as tests/rigs/hadoop
PYSPARK_VERSION=3.5.9              # Spark 3.5; its wheel is Spark itself (bin/, jars/)
PIP_VERSION=25.3
# Debian's Python (3.11): readable by the `livy` user, and a version pyspark 3.5 supports.
SPARK_BASE_PYTHON=/usr/bin/python3
