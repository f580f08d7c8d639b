# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Files written into notebook users' home directories without following any link a user controls.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.

The module runs as root, and everything inside a user's home is that user's to change at any moment.
So each path component is opened relative to the directory already opened, with O_NOFOLLOW, and
checked on the open descriptor (fstat): a symlink, a FIFO, or a directory owned by someone else is
refused, never followed, and no path is resolved twice. Only objects opened that way are chowned or
chmodded (by descriptor), and a file is replaced by renaming a new file over it, never rewritten in
place, so a hard link to a system file planted by the user is never written through.
"""

from __future__ import annotations

import errno
import os
import stat
import time
from dataclasses import dataclass, field

# A per-user config file is small; a larger one is not ours and is not read into memory.
MAX_FILE_BYTES = 1024 * 1024
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)
# O_NONBLOCK: a FIFO planted in place of the file must not hang the open.
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, 'O_CLOEXEC', 0)
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, 'O_CLOEXEC', 0)


class Refused(Exception):
    """A path under a user's home that is not touched: it is a link, of the wrong type, or foreign."""

    def __init__(self, user, path, reason):
        super().__init__('%s: %s %s; it was left as it is.' % (user, path, reason))
        self.user = user
        self.path = path
        self.reason = reason


class MissingHome(Exception):
    """The user's home directory does not exist (yet): nothing is written for that user."""


@dataclass
class Outcome:
    """What was (or, in check mode, would be) done for one user's file."""

    user: str
    path: str
    before: bytes | None
    after: bytes
    changed: bool = False
    created_dir: bool = False
    backup_file: str | None = None
    reasons: list = field(default_factory=list)


def _open_component(user, path, name, dir_fd):
    """Open directory `name` inside dir_fd without following a link; None when it does not exist."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            # Linux answers ENOTDIR for a link opened with O_DIRECTORY | O_NOFOLLOW: look at the entry.
            try:
                is_link = stat.S_ISLNK(os.lstat(name, dir_fd=dir_fd).st_mode)
            except OSError:
                is_link = exc.errno == errno.ELOOP
            raise Refused(user, path, 'is a symbolic link' if is_link else 'is not a directory')
        raise


def _read_existing(user, path, name, dir_fd):
    """(bytes, stat) of regular file `name` in dir_fd, or (None, None) when it does not exist."""
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        if exc.errno == errno.ELOOP:
            raise Refused(user, path, 'is a symbolic link')
        raise
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(user, path, 'is not a regular file')
        if info.st_size > MAX_FILE_BYTES:
            raise Refused(user, path, 'is larger than %d bytes' % MAX_FILE_BYTES)
        chunks = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
        return b''.join(chunks), info
    finally:
        os.close(fd)


def _create_file(dir_fd, name, content, mode, owner):
    """A new file `name` in dir_fd with `mode` from its first byte, owned by `owner`."""
    fd = os.open(name, CREATE_FLAGS, mode, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)  # the process umask must not narrow or widen it
        if owner is not None:
            os.fchown(fd, owner.uid, owner.gid)
        view = memoryview(content)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def _replace_file(dir_fd, name, content, mode, owner):
    """Put `content` at `name` in dir_fd atomically: a new file renamed over the old entry."""
    tmp = '.%s.%d.%d.tmp' % (name, os.getpid(), time.monotonic_ns())
    try:
        _create_file(dir_fd, tmp, content, mode, owner)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def _check_owner(user, path, info, allowed):
    if info.st_uid not in allowed:
        raise Refused(user, path, 'belongs to uid %d, neither to %s nor to root' % (info.st_uid, user))


def _open_home(base, user, owner):
    """(descriptor of BASE/USER, the uids allowed to own what is below it).

    BASE is the operator's path and is followed like any path; USER is opened without following a
    link. With an owner, the home must belong to that owner. Below the home, the user (or, without an
    owner, the home's owner) and root may own things: root's earlier files are taken over.
    """
    home_path = os.path.join(base, user)
    base_fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | getattr(os, 'O_CLOEXEC', 0))
    try:
        home_fd = _open_component(user, home_path, user, base_fd)
    finally:
        os.close(base_fd)
    if home_fd is None:
        raise MissingHome(home_path)
    try:
        home = os.fstat(home_fd)
        if owner is not None and home.st_uid != owner.uid:
            raise Refused(user, home_path, 'belongs to uid %d, not to %s (uid %d)' % (home.st_uid, user, owner.uid))
    except BaseException:
        os.close(home_fd)
        raise
    return home_fd, {0, owner.uid if owner is not None else home.st_uid}


def read_user_file(base, user, subdir, name, owner=None):
    """The bytes of BASE/USER/SUBDIR/NAME, or None when SUBDIR or NAME does not exist yet.

    Opened exactly as write_user_file opens it (no link followed, the home and what is below it the
    user's or root's): raises MissingHome and Refused in the same cases, so a file is read only where
    it could also be written.
    """
    home_path = os.path.join(base, user)
    dir_path = os.path.join(home_path, subdir)
    home_fd, allowed = _open_home(base, user, owner)
    dir_fd = None
    try:
        dir_fd = _open_component(user, dir_path, subdir, home_fd)
        if dir_fd is None:
            return None
        _check_owner(user, dir_path, os.fstat(dir_fd), allowed)
        content, info = _read_existing(user, os.path.join(dir_path, name), name, dir_fd)
        if info is not None:
            _check_owner(user, os.path.join(dir_path, name), info, allowed)
        return content
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
        os.close(home_fd)


def write_user_file(base, user, subdir, name, content, owner=None, dir_mode=0o700, file_mode=0o600,
                    backup=False, check_mode=False):
    """Make BASE/USER/SUBDIR/NAME hold `content`, owned by `owner` (None: left to root) with `file_mode`.

    BASE is the operator's path and is followed like any path; USER and everything below it are opened
    without following links. With an owner, the home must belong to that owner. SUBDIR is created when
    missing (never the home itself: raises MissingHome). Raises Refused for anything not the user's own.
    """
    home_path = os.path.join(base, user)
    dir_path = os.path.join(home_path, subdir)
    file_path = os.path.join(dir_path, name)
    home_fd, allowed = _open_home(base, user, owner)
    dir_fd = None
    try:
        outcome = Outcome(user=user, path=file_path, before=None, after=content)

        dir_fd = _open_component(user, dir_path, subdir, home_fd)
        if dir_fd is None:
            outcome.changed = outcome.created_dir = True
            outcome.reasons.append('directory created')
            if check_mode:
                return outcome
            os.mkdir(subdir, dir_mode, dir_fd=home_fd)
            dir_fd = _open_component(user, dir_path, subdir, home_fd)
            if dir_fd is None:
                raise Refused(user, dir_path, 'vanished while it was being created')
        current = os.fstat(dir_fd)
        _check_owner(user, dir_path, current, allowed)
        if not outcome.created_dir:
            if owner is not None and (current.st_uid, current.st_gid) != (owner.uid, owner.gid):
                outcome.changed = True
                outcome.reasons.append('directory owner')
            if stat.S_IMODE(current.st_mode) != dir_mode:
                outcome.changed = True
                outcome.reasons.append('directory mode')
        if not check_mode:
            if owner is not None and (current.st_uid, current.st_gid) != (owner.uid, owner.gid):
                os.fchown(dir_fd, owner.uid, owner.gid)
            if stat.S_IMODE(current.st_mode) != dir_mode:
                os.fchmod(dir_fd, dir_mode)

        if outcome.created_dir:
            before, info = None, None
        else:
            before, info = _read_existing(user, file_path, name, dir_fd)
        outcome.before = before
        if before is None:
            outcome.reasons.append('file created')
        else:
            _check_owner(user, file_path, info, allowed)
            if before != content:
                outcome.reasons.append('content')
            if owner is not None and (info.st_uid, info.st_gid) != (owner.uid, owner.gid):
                outcome.reasons.append('file owner')
            if stat.S_IMODE(info.st_mode) != file_mode or info.st_nlink != 1:
                # Mode fixes go through a new file too: chmod on a hard-linked inode would reach
                # whatever else that inode is.
                outcome.reasons.append('file mode')
        file_changes = [reason for reason in outcome.reasons if reason.startswith('file') or reason == 'content']
        if file_changes:
            outcome.changed = True
            if not check_mode:
                if backup and before is not None:
                    # The name Ansible's own backups have: PATH.PID.TIMESTAMP~
                    outcome.backup_file = '%s.%d.%s~' % (file_path, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S'))
                    _create_file(dir_fd, os.path.basename(outcome.backup_file), before, file_mode, owner)
                _replace_file(dir_fd, name, content, file_mode, owner)
        return outcome
    finally:
        if dir_fd is not None:
            os.close(dir_fd)
        os.close(home_fd)
