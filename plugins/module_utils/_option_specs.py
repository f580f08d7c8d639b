# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Option specs that go with the doc fragments of the same name in plugins/doc_fragments/.

This module_util is private to the datalake.notebooks collection; its API may change at any time.

A module that extends a fragment's documentation takes its options from here, so an option is
documented in one place and specified in one place (as community.docker keeps DOCKER_COMMON_ARGS
beside its docker fragment).
"""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

# doc_fragments/hdfs.py: how a module reaches the NameNode and who it acts as.
HDFS_ARGS = dict(
    namenode_url=dict(type='list', elements='str'),
    hadoop_conf_dir=dict(type='path'),
    hdfs_user=dict(type='str', default='hdfs'),
    kerberos=dict(type='bool', default=False),
    kerberos_principal=dict(type='str'),
    kerberos_keytab=dict(type='path', no_log=False),
    kinit_bin=dict(type='str', default='kinit'),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='float', default=30),
)
HDFS_REQUIRED_TOGETHER = [('kerberos_principal', 'kerberos_keytab')]

# doc_fragments/jupyterhub.py: how a module reaches the hub's REST API.
JUPYTERHUB_ARGS = dict(
    url=dict(type='str', required=True),
    api_token=dict(type='str', no_log=True, fallback=(env_fallback, ['JUPYTERHUB_API_TOKEN'])),
    validate_certs=dict(type='bool', default=True),
    ca_path=dict(type='path'),
    timeout=dict(type='float', default=30),
)
