# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The one place an HDFS backend is chosen and built from hdfs_homedir's parameters.

This module_util is private to the datalake.notebooks collection; its API may change at any time.

`select_backend(params, run_command, get_bin_path)` does what the module's options ask: the
Kerberos ticket from a keytab, NameNode discovery (namenode_url or the node's site files), TLS
settings, the per-backend defaults, and the backend itself (webhdfs, cli or rpc). Anything it
cannot do raises SelectError with the message for the user, so the module only reports it.
"""

from __future__ import annotations

import os
import socket

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.datalake.notebooks.plugins.module_utils import _hdfs_rpc, _webhdfs
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_cli import HdfsCliBackend
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_site import HadoopSiteError, namenode_urls
from ansible_collections.datalake.notebooks.plugins.module_utils._kerberos import KerberosError, PrivateTicket

DEFAULT_WORKERS = 16
# RPC calls in flight share one connection: more of them let the NameNode sync its edit log once
# for more writes (bench/findings.md).
RPC_WORKERS = 64


class SelectError(Exception):
    """The backend cannot be built as asked; `message` says why, `exception` is for -vvv."""

    def __init__(self, message, exception=None):
        super(SelectError, self).__init__(message)
        self.message = message
        self.exception = exception


def default_workers(backend):
    return RPC_WORKERS if backend == 'rpc' else DEFAULT_WORKERS


def get_ticket(params, run_command, get_bin_path):
    """The private ticket of kerberos_principal from kerberos_keytab, or None without a keytab.

    The caller closes it (its cache is removed then), whatever happens afterwards.
    """
    if params['kerberos_keytab'] is None:
        return None
    if not params['kerberos']:
        raise SelectError('kerberos_keytab and kerberos_principal need kerberos=true')
    kinit = get_bin_path(params['kinit_bin'])
    if kinit is None:
        raise SelectError('kinit_bin %s was not found on this node: install MIT Kerberos\' client tools '
                          '(krb5-user, krb5-workstation) or set kinit_bin to its path' % params['kinit_bin'])
    ticket = PrivateTicket(run_command, params['kerberos_principal'], params['kerberos_keytab'], kinit_bin=kinit)
    try:
        ticket.acquire()
    except KerberosError as exc:
        ticket.close()
        raise SelectError(str(exc))
    return ticket


def select_backend(params, run_command, ccache=None):
    """The HdfsBackend the parameters ask for. `run_command(argv, environ)` -> (rc, out, err)."""
    if params['backend'] == 'cli':
        return HdfsCliBackend(run_command, hdfs_bin=params['hdfs_bin'], hdfs_user=params['hdfs_user'],
                              kerberos=params['kerberos'], conf_dir=params['hadoop_conf_dir'], ccache=ccache,
                              workers=min(params['workers'], os.cpu_count() or 1),
                              safemode_timeout=params['safemode_timeout'])
    if params['backend'] == 'rpc':
        return _rpc_backend(params, ccache)
    return _webhdfs_backend(params, ccache)


def _webhdfs_backend(params, ccache):
    if not _webhdfs.HAS_REQUESTS:
        raise SelectError(missing_required_lib('requests'), str(_webhdfs.REQUESTS_IMPORT_ERROR))
    if params['kerberos'] and not _webhdfs.HAS_GSSAPI:
        raise SelectError(missing_required_lib('requests-gssapi'), str(_webhdfs.GSSAPI_IMPORT_ERROR))
    urls = params['namenode_url']
    if not urls:
        # SPNEGO needs the NameNode's real host name (its HTTP/<host> principal), not localhost.
        wildcard_host = socket.getfqdn() if params['kerberos'] else 'localhost'
        try:
            urls = namenode_urls(params['hadoop_conf_dir'], wildcard_host=wildcard_host)
        except HadoopSiteError as exc:
            raise SelectError('Cannot find the NameNode: %s' % exc)
    verify = params['validate_certs']
    if verify and params['ca_path']:
        verify = params['ca_path']
    return _webhdfs.WebHdfsBackend(urls, user=params['hdfs_user'], kerberos=params['kerberos'],
                                   verify=verify, timeout=params['timeout'], workers=params['workers'],
                                   safemode_timeout=params['safemode_timeout'], ccache=ccache)


def _rpc_backend(params, ccache):
    if not _hdfs_rpc.HAS_HDFS_NATIVE:
        raise SelectError(missing_required_lib('hdfs-native'), str(_hdfs_rpc.HDFS_NATIVE_IMPORT_ERROR))
    try:
        url, config, conf_dir, shown = _hdfs_rpc.make_target(params['namenode_url'], params['hadoop_conf_dir'])
    except HadoopSiteError as exc:
        raise SelectError('Cannot find the NameNode: %s' % exc)
    except ValueError as exc:
        raise SelectError(str(exc))
    return _hdfs_rpc.RpcHdfsBackend(url, config=config, conf_dir=conf_dir, shown=shown, user=params['hdfs_user'],
                                    workers=params['workers'], timeout=params['timeout'],
                                    safemode_timeout=params['safemode_timeout'], kerberos=params['kerberos'],
                                    ccache=ccache)
