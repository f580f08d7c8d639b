# shellcheck shell=bash
# Sourced by every hadoop/hdfs/yarn command. Small heaps: the whole node fits in a few GB.
export HADOOP_HEAPSIZE_MAX=${HADOOP_HEAPSIZE_MAX:-384m}
export HADOOP_LOG_DIR=${HADOOP_LOG_DIR:-/var/log/hadoop}
