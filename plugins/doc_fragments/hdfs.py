# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Options of every module that talks to the HDFS NameNode (WebHDFS, RPC or the hdfs CLI)."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  namenode_url:
    description:
      - The NameNode web address(es) for WebHDFS, for example V(http://master:9870). The module adds
        C(/webhdfs/v1) itself.
      - With HA, list every NameNode of the nameservice; a standby or unreachable one is skipped and
        the next one asked.
      - If not given, the addresses are read from C(hdfs-site.xml) in O(hadoop_conf_dir), as the HDFS
        client does. That is C(dfs.namenode.http-address) (C(https-address) under
        C(dfs.http.policy=HTTPS_ONLY)), and for an HA nameservice C(dfs.ha.namenodes.<ns>) with
        C(dfs.namenode.http-address.<ns>.<nn>), the nameservice being the one of C(fs.defaultFS) in
        C(core-site.xml). A wildcard bind address (C(0.0.0.0)) means this host.
      - With O(backend=rpc), the NameNode RPC address(es) instead, for example
        V(hdfs://master:8020) (C(dfs.namenode.rpc-address); port 8020 if none is given). Several
        entries are the NameNodes of one HA nameservice; a standby is skipped and the client fails
        over among them. If not given, the file system is C(fs.defaultFS) of C(core-site.xml) in
        O(hadoop_conf_dir), and an HA nameservice is resolved from C(hdfs-site.xml)
        (C(dfs.ha.namenodes.<ns>), C(dfs.namenode.rpc-address.<ns>.<nn>)), as Hadoop's client does.
    type: list
    elements: str
  hadoop_conf_dir:
    description:
      - The Hadoop client configuration directory on the managed node.
      - If not given, E(HADOOP_CONF_DIR), then C($HADOOP_HOME/etc/hadoop), C(/etc/hadoop/conf) and
        C(/etc/hadoop), the first one holding C(hdfs-site.xml).
      - Read for the NameNode addresses when O(namenode_url) is not given; with O(backend=cli) it
        becomes E(HADOOP_CONF_DIR) of the C(hdfs) command, with O(backend=rpc) the configuration
        the RPC client loads.
    type: path
  hdfs_user:
    description:
      - The HDFS user to act as under simple authentication, sent as C(user.name) in WebHDFS
        requests, and as E(HADOOP_USER_NAME) to the C(hdfs) command and to the RPC client.
      - It must be an HDFS superuser to create directories owned by other users.
      - Ignored with O(kerberos=true), where the Kerberos ticket decides who acts.
    type: str
    default: hdfs
  kerberos:
    description:
      - Authenticate with Kerberos. WebHDFS requests use SPNEGO (needs C(requests-gssapi) on the
        managed node); the C(hdfs) command of O(backend=cli) uses Hadoop's own Kerberos login.
      - With O(kerberos_keytab) and O(kerberos_principal), the module gets its own ticket from the
        keytab (MIT C(kinit)) into a private credential cache, a mode-700 directory that it
        removes when the task ends, so the node needs no ticket cache and nobody else's is used.
      - Without them, the ticket in the current credential cache is used; set E(KRB5CCNAME)
        through the C(environment) keyword to point at another one.
      - With O(backend=rpc), C(hdfs-native) authenticates over SASL/GSSAPI with the same ticket
        (MIT's C(libgssapi_krb5) on the node).
    type: bool
    default: false
  kerberos_principal:
    description:
      - The principal to get a ticket for from O(kerberos_keytab), for example
        V(hdfs/master.example.com@EXAMPLE.COM) or V(hdfs@EXAMPLE.COM). It must be an HDFS
        superuser (after C(hadoop.security.auth_to_local)).
      - Needs O(kerberos=true) and O(kerberos_keytab).
    type: str
  kerberos_keytab:
    description:
      - A keytab on the managed node holding the key of O(kerberos_principal), readable by the
        user the module runs as.
      - A missing or unreadable keytab, a keytab without that principal's current key (stale, or
        for another principal), an expired principal and a clock skew against the KDC each fail the
        task before HDFS is asked anything, with what to fix.
      - Needs O(kerberos=true) and O(kerberos_principal).
    type: path
  kinit_bin:
    description:
      - MIT Kerberos' C(kinit), a name looked up in E(PATH) or a full path; used with
        O(kerberos_keytab) only.
    type: str
    default: kinit
  validate_certs:
    description:
      - Verify the NameNode's TLS certificate (HTTPS addresses only).
      - Set O(ca_path) rather than turning this off when the cluster uses a private CA.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificate(s) that signed the NameNodes' certificates, used instead of
        the system's trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for each WebHDFS answer (with O(backend=rpc), each RPC answer, as
        C(dfs.client.socket-timeout)) before trying the next NameNode. With O(backend=rpc), a call
        still without an answer after twice this stops the run.
    type: float
    default: 30
requirements:
  - requests (Python library on the managed node, for WebHDFS)
  - requests-gssapi (Python library on the managed node, for O(kerberos=true))
  - MIT Kerberos client tools (C(kinit)) on the managed node, for O(kerberos_keytab)
  - hdfs-native 0.14.7 (Python library on the managed node, for O(backend=rpc))
"""
