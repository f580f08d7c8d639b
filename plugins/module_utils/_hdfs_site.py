# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""NameNode HTTP addresses from a node's hdfs-site.xml (and core-site.xml), HA included.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.

The keys read are the ones the HDFS client itself uses:
- dfs.http.policy: HTTPS_ONLY selects dfs.namenode.https-address*, anything else the http ones;
- dfs.internal.nameservices / dfs.nameservices, with fs.defaultFS (core-site.xml) choosing among
  several nameservices;
- dfs.ha.namenodes.<ns> and dfs.namenode.http(s)-address.<ns>.<nn> for HA;
- dfs.namenode.http(s)-address.<ns> and dfs.namenode.http(s)-address otherwise.
"""

from __future__ import annotations

import os
import re

from ansible_collections.datalake.notebooks.plugins.module_utils import _hadoop_xml

DEFAULT_CONF_DIRS = ('/etc/hadoop/conf', '/etc/hadoop')
DEFAULT_HTTP_PORT = 9870
DEFAULT_HTTPS_PORT = 9871
WILDCARD_HOSTS = ('0.0.0.0', '::', '[::]', '*')

_VARIABLE = re.compile(r'\$\{([^}$\s]+)\}')


class HadoopSiteError(ValueError):
    """The configuration does not say where the NameNode is; the message says what is missing."""


# Keys Hadoop still accepts under an old name (HdfsConfiguration's deprecations), by new name.
_DEPRECATED_NAMES = {'dfs.permissions.supergroup': 'dfs.permissions.superusergroup'}
SUPERUSERGROUP_KEY = 'dfs.permissions.superusergroup'
DEFAULT_SUPERUSERGROUP = 'supergroup'


def load_site_properties(texts):
    """{name: raw value} as Hadoop 3.3.6's Configuration loads these *-site.xml texts, in order.

    Each text (bytes or str) is read by `_hadoop_xml`, the parser `hadoop_config` edits with, so both
    follow Hadoop's rules (Configuration.Parser and loadProperty): a later value replaces an earlier
    one unless the property was final, which it stays across the later texts too; an empty <value>
    leaves the property as it was; values are not trimmed. Deprecated names set the new one.
    XInclude is not followed. Raises HadoopSiteError.
    """
    properties = {}
    finals = set()
    for text in texts:
        if isinstance(text, bytes):
            text = text.decode('utf-8', 'surrogateescape')
        try:
            document = _hadoop_xml.parse(text)
        except _hadoop_xml.SiteXmlError as exc:
            raise HadoopSiteError('not well-formed XML: %s' % exc)
        for prop in document.properties:
            if prop.name is None:
                continue
            name = _DEPRECATED_NAMES.get(prop.name, prop.name)
            if prop.value is not None and name not in finals:
                properties[name] = prop.value
            if prop.final:
                finals.add(name)
    return properties


def parse_site_xml(text):
    """{name: trimmed value} of one *-site.xml text, as Hadoop's getTrimmed reads the keys used here."""
    return dict((name, value.strip()) for name, value in load_site_properties([text]).items())


def _read_text(path):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise HadoopSiteError('cannot read %s: %s' % (path, exc))


def superusergroup_from_texts(texts):
    """The HDFS superuser group (dfs.permissions.superusergroup) set by these site-file texts.

    `texts` in the NameNode's load order: core-site.xml, then hdfs-site.xml. "supergroup", the
    default, when none sets it. ${...} references to other properties of the texts are expanded.
    Surrounding whitespace is removed: the NameNode would compare the raw value, which then names
    no group at all, so the stripped name is the one to keep out of proxy-user groups (and a blank
    value gives the default). Raises HadoopSiteError.
    """
    properties = load_site_properties(texts)
    value = expand(properties, properties.get(SUPERUSERGROUP_KEY, '')).strip()
    return value or DEFAULT_SUPERUSERGROUP


def hdfs_superusergroup(hdfs_site_path, core_site_path=None):
    """superusergroup_from_texts of the files at these paths; a missing file counts as empty, as in
    Hadoop, and `core_site_path` None reads hdfs-site.xml alone. Raises HadoopSiteError naming the file.
    """
    texts = []
    for path in (core_site_path, hdfs_site_path):
        if path is None or not os.path.exists(path):
            continue
        data = _read_text(path)
        try:
            load_site_properties([data])
        except HadoopSiteError as exc:
            raise HadoopSiteError('%s: %s' % (path, exc))
        texts.append(data)
    return superusergroup_from_texts(texts)


def read_site_xml(path):
    """parse_site_xml of the file at `path`; {} when the file does not exist."""
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        if getattr(exc, 'errno', None) == 2:
            return {}
        raise HadoopSiteError('cannot read %s: %s' % (path, exc))
    try:
        return parse_site_xml(data)
    except HadoopSiteError as exc:
        raise HadoopSiteError('%s: %s' % (path, exc))


def expand(properties, value, depth=20):
    """`value` with ${name} replaced from `properties`, as Hadoop's Configuration does."""
    for dummy in range(depth):
        new = _VARIABLE.sub(lambda match: properties.get(match.group(1), match.group(0)), value)
        if new == value:
            return value
        value = new
    return value


def split_list(value):
    return [item.strip() for item in (value or '').split(',') if item.strip()]


def default_fs_host(core_site):
    """('nameservice-or-host', port or None) from fs.defaultFS = hdfs://NAME[:PORT], else (None, None)."""
    value = (core_site or {}).get('fs.defaultFS') or (core_site or {}).get('fs.default.name') or ''
    match = re.match(r'^(?:hdfs|viewfs)://([^/:]+|\[[^\]]+\])(?::(\d+))?', value.strip())
    if not match:
        return None, None
    return match.group(1), int(match.group(2)) if match.group(2) else None


def namenode_addresses(hdfs_site, core_site=None, nameservice=None):
    """(scheme, ['host:port', ...]) of the NameNode web UIs, the HA ones all listed.

    Raises HadoopSiteError when the files name several nameservices and nothing says which one,
    or when an HA NameNode has no address.
    """
    def get(key):
        value = hdfs_site.get(key)
        return expand(hdfs_site, value) if value is not None else None

    https = (get('dfs.http.policy') or 'HTTP_ONLY').strip().upper() == 'HTTPS_ONLY'
    scheme = 'https' if https else 'http'
    key = 'dfs.namenode.https-address' if https else 'dfs.namenode.http-address'
    default_port = DEFAULT_HTTPS_PORT if https else DEFAULT_HTTP_PORT

    services = split_list(get('dfs.internal.nameservices')) or split_list(get('dfs.nameservices'))
    fs_host, _port = default_fs_host(core_site)
    if nameservice is None:
        if fs_host in services:
            nameservice = fs_host
        elif len(services) == 1:
            nameservice = services[0]
        elif len(services) > 1:
            raise HadoopSiteError(
                'hdfs-site.xml names several nameservices (%s) and fs.defaultFS does not pick one; '
                'give namenode_url' % ', '.join(services))
    if nameservice is not None:
        namenodes = split_list(get('dfs.ha.namenodes.%s' % nameservice))
        if namenodes:
            addresses = []
            for namenode in namenodes:
                address = get('%s.%s.%s' % (key, nameservice, namenode))
                if not address:
                    raise HadoopSiteError('HA NameNode %s of nameservice %s has no %s.%s.%s'
                                          % (namenode, nameservice, key, nameservice, namenode))
                addresses.append(address)
            return scheme, addresses
        address = get('%s.%s' % (key, nameservice)) or get(key)
    else:
        address = get(key)
    if not address:
        # The NameNode serves its web UI on every interface by default, on the host of fs.defaultFS.
        host = fs_host if fs_host and fs_host not in services else '0.0.0.0'
        address = '%s:%d' % (host, default_port)
    return scheme, [address]


def address_to_url(scheme, address, wildcard_host='localhost'):
    """'http://nn1:9870' from 'nn1:9870'; a wildcard bind address (0.0.0.0) becomes wildcard_host."""
    host, sep, port = address.strip().rpartition(':')
    if not sep:
        host, port = address.strip(), str(DEFAULT_HTTPS_PORT if scheme == 'https' else DEFAULT_HTTP_PORT)
    if host in WILDCARD_HOSTS or not host:
        host = wildcard_host
    return '%s://%s:%s' % (scheme, host, port)


def find_conf_dir(conf_dir=None, environ=None):
    """The Hadoop configuration directory: `conf_dir`, $HADOOP_CONF_DIR, then the usual places."""
    if conf_dir:
        if not os.path.isfile(os.path.join(conf_dir, 'hdfs-site.xml')):
            raise HadoopSiteError('no hdfs-site.xml in %s (hadoop_conf_dir)' % conf_dir)
        return conf_dir
    environ = os.environ if environ is None else environ
    candidates = []
    if environ.get('HADOOP_CONF_DIR'):
        candidates.append(environ['HADOOP_CONF_DIR'])
    if environ.get('HADOOP_HOME'):
        candidates.append(os.path.join(environ['HADOOP_HOME'], 'etc', 'hadoop'))
    candidates.extend(DEFAULT_CONF_DIRS)
    for candidate in candidates:
        if os.path.isfile(os.path.join(candidate, 'hdfs-site.xml')):
            return candidate
    raise HadoopSiteError('no hdfs-site.xml in %s; give namenode_url or hadoop_conf_dir'
                          % ', '.join(candidates))


def namenode_urls(conf_dir=None, wildcard_host='localhost', environ=None):
    """The WebHDFS base URLs of the NameNodes configured on this node, HA ones in file order."""
    directory = find_conf_dir(conf_dir, environ)
    hdfs_site = read_site_xml(os.path.join(directory, 'hdfs-site.xml'))
    core_site = read_site_xml(os.path.join(directory, 'core-site.xml'))
    scheme, addresses = namenode_addresses(hdfs_site, core_site)
    return [address_to_url(scheme, address, wildcard_host) for address in addresses]
