# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""The `hdfs dfs` backend for HDFS home directories, for nodes where WebHDFS is off.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
The parsing helpers are plain Python, unit-tested alone.

Every `hdfs dfs` call starts a JVM (1-3 s), so calls are batched: one `-ls` of the base directory,
one `-mkdir -p` for every missing path (a umask chosen so new directories get the wanted mode
directly), one `-chmod` for every directory with a wrong mode, one `-rmdir`/`-rm` for every
removal. Ownership is the one thing FsShell cannot batch across users: `-chown OWNER:GROUP
PATH...` takes one owner, so there is one call per distinct owner:group, which for per-user owners
means one JVM per created user, run `workers` at a time. The WebHDFS backend has no such cost.
"""

from __future__ import annotations

import posixpath
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import (
    GLOB_CHARACTERS,
    FatalHdfsError,
    FileStatus,
    HdfsBackend,
    HdfsError,
    SafeModeError,
)

_KINDS = {'d': 'DIRECTORY', '-': 'FILE', 'l': 'SYMLINK'}
# FsShell's per-path error: "mkdir: `/user/bob': Is not a directory"
_PATH_ERROR = re.compile(r"^(?P<cmd>-?[\w]+): `(?P<path>[^']*)': (?P<message>.*)$")
# Java option lines a JVM may print before anything else; never an HDFS error.
_NOISE = re.compile(r'^(WARN|INFO|DEBUG)\b|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[,.]\d+ (WARN|INFO|DEBUG) '
                    r'|^(Picked up|OpenJDK|SLF4J)')


def cli_name_problem(name):
    """Why `name` cannot go on an `hdfs dfs` command line, or None."""
    found = sorted(set(char for char in name if char in GLOB_CHARACTERS))
    if found:
        return 'contains %s, which hdfs dfs expands as a glob (use backend=webhdfs)' % ' '.join(found)
    if ':' in name:
        return 'contains ":", which hdfs dfs reads as a URI scheme'
    return None


def permission_from_symbolic(text):
    """0o750 from 'drwxr-x---', 0o1777 from 'drwxrwxrwt'; a trailing '+' (ACL) is ignored."""
    bits = text.rstrip('+')[1:10]
    if len(bits) != 9:
        raise ValueError('not a permission string: %r' % text)
    mode = 0
    for index, char in enumerate(bits):
        shift = 8 - index
        if index == 8 and char in 'tT':
            mode |= 0o1000
            if char == 't':
                mode |= 1
        elif char != '-':
            mode |= 1 << shift
    return mode


def parse_ls(text):
    """{name: FileStatus} from `hdfs dfs -ls DIR` output.

    Line: permission, replication ('-' for a directory), owner, group, size, date, time, path.
    """
    statuses = {}
    for line in text.splitlines():
        if not line or line.startswith('Found ') or _NOISE.match(line):
            continue
        parts = line.split(None, 7)
        if len(parts) < 8 or parts[0][0] not in _KINDS:
            continue
        try:
            permission = permission_from_symbolic(parts[0])
        except ValueError:
            continue
        name = posixpath.basename(parts[7].rstrip('/'))
        statuses[name] = FileStatus(kind=_KINDS[parts[0][0]], owner=parts[2], group=parts[3],
                                    permission=permission, children=None)
    return statuses


def parse_count(text):
    """{path: entries below it} from `hdfs dfs -count PATH...` (DIR_COUNT FILE_COUNT SIZE PATH).

    DIR_COUNT includes the directory itself; the count is recursive, which is all an emptiness
    check needs.
    """
    counts = {}
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[0].isdigit() and parts[1].isdigit():
            counts[_strip_uri(parts[3])] = int(parts[0]) - 1 + int(parts[1])
    return counts


def parse_errors(stderr, paths):
    """({path: message}, [messages naming no path]) from FsShell's stderr for a batched call."""
    wanted = set(paths)
    by_path = {}
    general = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line or _NOISE.match(line):
            continue
        match = _PATH_ERROR.match(line)
        if match:
            path = _strip_uri(match.group('path'))
            if path in wanted:
                by_path[path] = "`%s': %s" % (path, match.group('message'))
                continue
        general.append(line)
    return by_path, general


def mentions_safemode(text):
    lowered = text.lower()
    return 'safe mode' in lowered or 'safemodeexception' in lowered


def umask_for(mode):
    """The umask that makes FsShell's mkdir (0777 & ~umask) give `mode`'s rwx bits."""
    return '%03o' % (0o777 & ~mode)


def _strip_uri(path):
    """'/user/x' from 'hdfs://nn:8020/user/x'."""
    if '://' in path:
        rest = path.split('://', 1)[1]
        return '/' + rest.split('/', 1)[1] if '/' in rest else '/'
    return path


class HdfsCliBackend(HdfsBackend):
    """HDFS through the node's `hdfs dfs` (FsShell); `requests` counts JVMs started.

    `run_command(argv, environ)` -> (rc, stdout, stderr) is AnsibleModule.run_command in the module.
    `hdfs_user` becomes HADOOP_USER_NAME under simple auth; with Kerberos the ticket cache decides.
    """

    name = 'cli'

    def __init__(self, run_command, hdfs_bin='hdfs', hdfs_user=None, kerberos=False, conf_dir=None,
                 workers=2, safemode_timeout=60, max_args_bytes=100000, ccache=None, **kwargs):
        super(HdfsCliBackend, self).__init__(safemode_timeout=safemode_timeout, **kwargs)
        self._run = run_command
        self.hdfs_bin = hdfs_bin
        self.user = None if kerberos else hdfs_user
        self.environ = {}
        if self.user:
            self.environ['HADOOP_USER_NAME'] = self.user
        if conf_dir:
            self.environ['HADOOP_CONF_DIR'] = conf_dir
        self.kerberos = kerberos
        if ccache:
            # Hadoop's UserGroupInformation reads the ticket cache named by KRB5CCNAME.
            self.environ['KRB5CCNAME'] = ccache
        self.workers = max(1, int(workers))
        self.max_args_bytes = max_args_bytes

    @property
    def identity(self):
        return self.user

    def dfs(self, args, generic=()):
        """(rc, stdout, stderr) of one `hdfs dfs [generic] args` run."""
        argv = [self.hdfs_bin, 'dfs'] + list(generic) + list(args)
        self.count_request()
        try:
            return self._run(argv, self.environ)
        except OSError as exc:
            raise FatalHdfsError('Cannot run %s: %s (set hdfs_bin to the hdfs command of this node)'
                                 % (self.hdfs_bin, exc), op=args[0])

    def list_dir(self, path):
        rc, out, err = self.dfs(['-ls', path])
        if rc != 0:
            if 'No such file or directory' in err:
                return None
            hint = ''
            if 'Client cannot authenticate via' in err:
                hint = (' (no Kerberos ticket: give kerberos_keytab and kerberos_principal, or run with a '
                        'ticket cache that holds the HDFS superuser\'s ticket)' if self.kerberos else
                        ' (the cluster uses Kerberos: set kerberos=true with kerberos_keytab and '
                        'kerberos_principal)')
            raise FatalHdfsError('hdfs dfs -ls %s failed (rc=%s): %s%s' % (path, rc, _tail(err), hint),
                                 op='-ls', path=path)
        listing = parse_ls(out)
        # `-ls FILE` lists the file itself: the base is not a directory.
        if len(listing) == 1:
            only_name, only = next(iter(listing.items()))
            if only.kind != 'DIRECTORY' and only_name == posixpath.basename(path):
                raise FatalHdfsError('%s is a %s, not a directory' % (path, only.kind.lower()),
                                     op='-ls', path=path)
        return listing

    def count_children(self, paths):
        counts = {}
        for chunk in self._chunks(paths):
            rc, out, err = self.dfs(['-count'] + chunk)
            counts.update(parse_count(out))
        return counts

    def mkdirs(self, paths, mode):
        generic = ['-D', 'fs.permissions.umask-mode=' + umask_for(mode)]
        errors = self._batched(paths, lambda chunk: (['-mkdir', '-p'] + chunk, generic), 'MKDIRS')
        if mode & 0o1000:
            # The umask only covers rwx bits; the sticky bit needs a chmod.
            made = [path for path in paths if path not in errors]
            if made:
                errors.update(self.set_permission(made, mode))
        return errors

    def set_owner(self, entries):
        groups = {}
        for path, owner, group in entries:
            spec = owner + (':' + group if group else '')
            groups.setdefault(spec, []).append(path)
        errors = {}

        def one(item):
            spec, paths = item
            return self._batched(paths, lambda chunk: (['-chown', spec] + chunk, ()), 'SETOWNER')

        items = sorted(groups.items())
        if len(items) <= 1 or self.workers == 1:
            for item in items:
                errors.update(one(item))
            return errors
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            for result in pool.map(one, items):
                errors.update(result)
        return errors

    def set_permission(self, paths, mode):
        return self._batched(paths, lambda chunk: (['-chmod', '%o' % mode] + chunk, ()), 'SETPERMISSION')

    def delete(self, paths, recursive):
        if recursive:
            return self._batched(paths, lambda chunk: (['-rm', '-r', '-skipTrash'] + chunk, ()), 'DELETE')
        return self._batched(paths, lambda chunk: (['-rmdir'] + chunk, ()), 'DELETE')

    def _chunks(self, paths):
        """Command-line-sized slices of `paths` (far below ARG_MAX)."""
        chunk = []
        size = 0
        for path in paths:
            if chunk and size + len(path) + 1 > self.max_args_bytes:
                yield chunk
                chunk, size = [], 0
            chunk.append(path)
            size += len(path) + 1
        if chunk:
            yield chunk

    def _batched(self, paths, command, op):
        """Run command(chunk) -> (args, generic) over `paths`; {path: HdfsError} for failures.

        A failure FsShell names a path for belongs to that path; a failure naming none (say,
        permission denied on the parent) is given to every path of the call.
        """
        errors = {}
        for chunk in self._chunks(paths):
            args, generic = command(chunk)
            while True:
                rc, out, err = self.dfs(args, generic)
                if rc != 0 and mentions_safemode(err):
                    self.wait_for_safemode(SafeModeError(_tail(err), op=op))
                    continue
                break
            if rc == 0:
                continue
            by_path, general = parse_errors(err, chunk)
            for path, message in by_path.items():
                errors[path] = HdfsError(message, op=op, path=path)
            if general or not by_path:
                message = '; '.join(general) if general else 'hdfs dfs %s exited with %s' % (args[0], rc)
                for path in chunk:
                    errors.setdefault(path, HdfsError(message, op=op, path=path))
        return errors


def _tail(text, lines=5):
    kept = [line for line in text.strip().splitlines() if line.strip() and not _NOISE.match(line)]
    return ' '.join(kept[-lines:]) or text.strip()[-500:]
