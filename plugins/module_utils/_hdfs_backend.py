# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""HDFS home directories: the backend interface, the plan, and the run that carries a plan out.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import. The planning functions are pure and unit-tested alone; the two
backends (`_webhdfs.WebHdfsBackend`, `_hdfs_cli.HdfsCliBackend`) implement `HdfsBackend`.

The shape of a run is fixed so that it stays cheap at scale: one listing of the base directory
decides everything, then every write of a kind goes to the backend as one batch (a backend may
spread a batch over a bounded pool of connections or pack it into one command line).
"""

from __future__ import annotations

import posixpath
import threading
import time
import unicodedata
from collections import namedtuple

# One directory entry as the NameNode reports it. `kind` is DIRECTORY, FILE or SYMLINK;
# `permission` an int (0o750, 0o1777); `children` the number of direct entries, or None when the
# backend's listing does not say (the CLI's `-ls`).
FileStatus = namedtuple('FileStatus', 'kind owner group permission children')

# A home directory to create: the user, its path, and what it must look like.
Create = namedtuple('Create', 'user path owner group mode')

# An existing home directory whose owner, group or mode is wrong. `before` is its FileStatus;
# `owner`/`group` are None when they are right (or not managed), `mode` None when it is right.
Fix = namedtuple('Fix', 'user path before owner group mode')

# A home directory to remove (state=absent); `before` is its FileStatus.
Remove = namedtuple('Remove', 'user path before')

# A user whose home path cannot be brought to the wanted state, with the reason the listing gives.
# `want` is the Create that would apply if the path were free (None under state=absent).
Conflict = namedtuple('Conflict', 'user path reason before want')

MAX_MODE = 0o1777
BASE_MODE = 0o755


class HdfsError(Exception):
    """An HDFS operation failed for one path: the NameNode's (or FsShell's) own words in `message`."""

    def __init__(self, message, op=None, path=None, exception=None):
        super(HdfsError, self).__init__(message)
        self.message = message
        self.op = op
        self.path = path
        self.exception = exception

    def describe(self):
        where = ' '.join(part for part in (self.op, self.path) if part)
        exc = ' (%s)' % self.exception if self.exception else ''
        return '%s: %s%s' % (where, self.message, exc) if where else self.message + exc


class SafeModeError(HdfsError):
    """The NameNode refused a write because it is in safe mode; the write may be retried."""


class FatalHdfsError(HdfsError):
    """Nothing further can succeed (no active NameNode, authentication, safe mode timed out)."""


class Plan(object):
    """What one run has to do, decided from one listing of the base directory."""

    def __init__(self, base, base_exists=True, mode=None):
        self.base = base
        self.mode = mode
        self.base_exists = base_exists
        self.create = []
        self.fix = []
        self.remove = []
        self.unchanged = []
        self.conflicts = []
        self.warnings = []

    @property
    def has_writes(self):
        return bool(self.create or self.fix or self.remove)


# ---------------------------------------------------------------------------------------------
# Pure helpers


# Each of owner, group and other in a usual directory mode: ---, --x, r-x, rwx.
_USUAL_CLASS_BITS = (0, 1, 5, 7)
# FsShell expands these in a path (GlobPattern, GlobExpander); WebHDFS does not, but a base that
# means different directories to the two backends is refused for both.
GLOB_CHARACTERS = '*?[]{}\\'


def usual_directory_mode(mode):
    """True for 0o750-like modes: each class ---, --x, r-x or rwx, none above the one before."""
    if mode < 0 or mode > MAX_MODE:
        return False
    owner, group, other = (mode >> 6) & 7, (mode >> 3) & 7, mode & 7
    return (all(bits in _USUAL_CLASS_BITS for bits in (owner, group, other))
            and not other & ~group and not group & ~owner)


def int_mode_problem(value):
    """Why the int `value` cannot be taken as a mode, or None.

    YAML 1.1 reads an unquoted 0750 as the octal int 488 but an unquoted 750 as the decimal 750
    (octal 1356), and the int alone does not say which was written. So an int is taken as the
    mode itself only when it is a usual directory mode and its digits, read as octal, are not one
    as well; anything else is refused with the quoted form to write.
    """
    digits = str(value)
    usual = usual_directory_mode(value)
    if value < 8 or not set(digits) <= set('01234567'):
        if usual:
            return None
        return ('mode %d (octal %04o) is a number that is not a usual directory mode; quote the mode you '
                'mean, e.g. mode: \'%04o\'' % (value, value, value))
    typed = digits.zfill(4)
    if not usual:
        return ('mode %d is a number: YAML reads an unquoted %s as the decimal %d (octal %o), not as the '
                'octal mode %s; quote it: mode: \'%s\'' % (value, digits, value, value, typed, typed))
    if usual_directory_mode(int(digits, 8)):
        return ('mode %d is a number YAML gives both for an unquoted %04o and for an unquoted %s; quote the '
                'mode you mean: mode: \'%04o\' or mode: \'%s\'' % (value, value, digits, value, typed))
    return None


def parse_mode(value):
    """The int mode for `value`: an octal string ('0750', '750', '1777') or an int.

    An int is taken as the mode itself (YAML reads an unquoted 0750 as the int 488) when
    int_mode_problem finds nothing wrong with it. HDFS has no setuid/setgid bits: only the sticky
    bit may stand above the rwx bits. Raises ValueError with the reason.
    """
    if isinstance(value, bool):
        raise ValueError('mode must be an octal string such as "0750", not a boolean')
    if isinstance(value, int):
        typed = set(str(value)) <= set('01234567') and int(str(value), 8) <= MAX_MODE
        if value < 0 or value > MAX_MODE and not typed:
            raise ValueError('mode %r is out of range: HDFS directory modes go from 0000 to 1777 '
                             '(rwx bits and the sticky bit); quote it, e.g. mode: \'0750\'' % (value,))
        problem = int_mode_problem(value)
        if problem:
            raise ValueError(problem)
        return value
    text = str(value).strip()
    if text.startswith('0o'):
        text = text[2:]
    if not text or any(char not in '01234567' for char in text):
        raise ValueError('mode %r is not an octal number such as "0750"' % (value,))
    mode = int(text, 8)
    if mode > MAX_MODE:
        raise ValueError('mode %r is out of range: HDFS directory modes go from 0000 to 1777 '
                         '(rwx bits and the sticky bit)' % (value,))
    return mode


def format_mode(mode):
    """'0750' for 0o750, '1777' for 0o1777."""
    return '%04o' % mode


def normalize_base(base, state='present'):
    """`base` as given, checked: an absolute, normalised HDFS path FsShell will not expand.

    A trailing "/" is dropped. Raises ValueError saying what to write instead.
    """
    if not isinstance(base, str) or not base.startswith('/'):
        raise ValueError('base must be an absolute HDFS path such as /user, got %r' % (base,))
    for char in base:
        if unicodedata.category(char) in ('Cc', 'Cf', 'Zl', 'Zp'):
            raise ValueError('base %r contains a control character (U+%04X)' % (base, ord(char)))
    found = sorted(set(char for char in base if char in GLOB_CHARACTERS))
    if found:
        raise ValueError('base %r contains %s, which hdfs dfs expands as a glob: give the one directory that '
                         'holds the home directories, such as /user' % (base, ' '.join(found)))
    if ':' in base:
        raise ValueError('base %r contains ":", which HDFS does not allow in a path name (give the path '
                         'alone, such as /user, not a URI)' % (base,))
    clean = base.rstrip('/') or '/'
    parts = clean.split('/')[1:]
    if clean != '/' and any(part in ('', '.', '..') for part in parts):
        normal = posixpath.normpath('/' + '/'.join(parts))
        raise ValueError('base %r is not a normalised path ("//", "." or ".." in it); write the directory '
                         'itself, such as %s' % (base, '/' + normal.lstrip('/')))
    if parts and parts[0] == '.reserved':
        raise ValueError('base %r is under /.reserved, where HDFS names any directory by inode number or '
                         'raw path; give the directory\'s own path, such as /user' % (base,))
    if clean == '/' and state == 'absent':
        raise ValueError('base / with state=absent would remove top-level HDFS directories named like the '
                         'users; give the directory that holds the home directories, such as /user')
    return clean


def home_path(base, user):
    return posixpath.join(base, user)


def unique(names):
    """`names` without repeats, first occurrence kept."""
    seen = set()
    result = []
    for name in names:
        if name not in seen:
            seen.add(name)
            result.append(name)
    return result


def describe_status(status):
    if status is None:
        return 'absent'
    if status.kind != 'DIRECTORY':
        return '%s owner=%s group=%s' % (status.kind.lower(), status.owner, status.group)
    return 'directory owner=%s group=%s mode=%s' % (status.owner, status.group, format_mode(status.permission))


def plan_present(users, base, listing, owner=None, group=None, mode=0o750):
    """The plan that gives every user in `users` a home directory under `base`.

    `listing` maps names directly under `base` to FileStatus, or is None when `base` does not
    exist. `owner` None means each directory belongs to its user; `group` None leaves the group
    as HDFS sets it (a new directory takes its parent's group) and never "fixes" it.
    """
    plan = Plan(base, base_exists=listing is not None, mode=mode)
    listing = listing or {}
    for user in unique(users):
        path = home_path(base, user)
        want_owner = owner if owner is not None else user
        status = listing.get(user)
        want = Create(user, path, want_owner, group, mode)
        if status is None:
            plan.create.append(want)
            continue
        if status.kind != 'DIRECTORY':
            plan.conflicts.append(Conflict(
                user, path, 'exists as a %s, not a directory' % status.kind.lower(), status, want))
            continue
        fix_owner = want_owner if status.owner != want_owner else None
        fix_group = group if group is not None and status.group != group else None
        fix_mode = mode if status.permission != mode else None
        if fix_owner is None and fix_group is None and fix_mode is None:
            plan.unchanged.append(user)
        else:
            plan.fix.append(Fix(user, path, status, fix_owner, fix_group, fix_mode))
    return plan


def plan_absent(users, base, listing, force=False):
    """The plan that removes the home directories of `users` under `base`.

    Without `force` only empty directories go; a non-empty one is a conflict, so data is never
    removed by surprise. A home path that is not a directory is not a home directory: it is left
    alone with a warning. Entries whose `children` is None must be filled in (see
    `HdfsBackend.count_children`) before planning without `force`.
    """
    plan = Plan(base, base_exists=listing is not None)
    listing = listing or {}
    for user in unique(users):
        path = home_path(base, user)
        status = listing.get(user)
        if status is None:
            plan.unchanged.append(user)
        elif status.kind != 'DIRECTORY':
            plan.unchanged.append(user)
            plan.warnings.append('%s exists as a %s, not a home directory; left alone.'
                                 % (path, status.kind.lower()))
        elif force or status.children == 0:
            plan.remove.append(Remove(user, path, status))
        else:
            plan.conflicts.append(Conflict(
                user, path, 'is not empty (%s entries below it); set force=true to remove it with '
                'its contents' % (status.children if status.children is not None else 'unknown'),
                status, None))
    return plan


def plan_diff(plan):
    """(before, after) text for diff mode: one line a home directory the run touches."""
    before = []
    after = []
    for item in plan.create:
        before.append('%s: absent' % item.path)
        after.append('%s: directory owner=%s group=%s mode=%s' % (
            item.path, item.owner, item.group if item.group is not None else '(inherited)',
            format_mode(item.mode)))
    for item in plan.fix:
        was = item.before
        before.append('%s: %s' % (item.path, describe_status(was)))
        after.append('%s: %s' % (item.path, describe_status(was._replace(
            owner=item.owner or was.owner, group=item.group or was.group,
            permission=item.mode if item.mode is not None else was.permission))))
    for item in plan.remove:
        before.append('%s: %s' % (item.path, describe_status(item.before)))
        after.append('%s: absent' % item.path)
    return ''.join(line + '\n' for line in before), ''.join(line + '\n' for line in after)


# ---------------------------------------------------------------------------------------------
# The backend interface


class HdfsBackend(object):
    """One way to talk to HDFS. Every write method takes a whole batch and returns
    {path: HdfsError} for the paths that failed; it raises FatalHdfsError when nothing more can
    succeed. Implementations count what they send to the NameNode in `requests`.
    """

    name = None

    def __init__(self, safemode_timeout=60, clock=time.monotonic, sleep=time.sleep, poll_interval=2.0):
        self.requests = 0
        self.safemode_timeout = safemode_timeout
        self._clock = clock
        self._sleep = sleep
        self._poll_interval = poll_interval
        self._lock = threading.Lock()
        self._safemode_deadline = None

    def count_request(self, number=1):
        with self._lock:
            self.requests += number

    def wait_for_safemode(self, error):
        """Sleep before retrying a write the NameNode refused in safe mode.

        One deadline for the whole run, set at the first refusal, so a batch of thousands of
        writes waits at most `safemode_timeout` seconds in all, not per write.
        """
        now = self._clock()
        with self._lock:
            if self._safemode_deadline is None:
                self._safemode_deadline = now + self.safemode_timeout
            deadline = self._safemode_deadline
        if now >= deadline:
            raise FatalHdfsError(
                'The NameNode is still in safe mode after waiting %s seconds (safemode_timeout); '
                'run again once it has left safe mode. Last answer: %s'
                % (self.safemode_timeout, error.message),
                op=error.op, path=error.path, exception=error.exception)
        self._sleep(min(self._poll_interval, deadline - now))

    # The operations ---------------------------------------------------------------------------

    def list_dir(self, path):
        """{name: FileStatus} of the entries directly under `path`, or None if it does not exist."""
        raise NotImplementedError

    def count_children(self, paths):
        """{path: number of entries below it} for directories whose listing did not say."""
        raise NotImplementedError

    def mkdirs(self, paths, mode):
        """Create each directory with exactly `mode` (not subject to a umask)."""
        raise NotImplementedError

    def set_owner(self, entries):
        """entries: [(path, owner, group)], group None to leave it."""
        raise NotImplementedError

    def set_permission(self, paths, mode):
        raise NotImplementedError

    def delete(self, paths, recursive):
        raise NotImplementedError

    def close(self):
        pass


# ---------------------------------------------------------------------------------------------
# Carrying out a plan


class Outcome(object):
    """What a run did (or, in check mode, would do)."""

    def __init__(self):
        self.created = []
        self.fixed = []
        self.removed = []
        self.unchanged = []
        self.failures = []
        self.base_created = False

    def fail(self, user, path, op, message, exception=None):
        self.failures.append({'user': user, 'path': path, 'op': op, 'message': message,
                              'exception': exception})

    @property
    def changed(self):
        return bool(self.created or self.fixed or self.removed or self.base_created)


def _record_errors(outcome, errors, users_by_path, op):
    for path, error in errors.items():
        outcome.fail(users_by_path.get(path), path, error.op or op, error.message, error.exception)


def build_plan(backend, users, base, state='present', owner=None, group=None, mode=0o750, force=False):
    """List `base` once and plan from that listing."""
    listing = backend.list_dir(base)
    if state == 'absent':
        if listing and not force:
            unknown = [home_path(base, user) for user in unique(users)
                       if user in listing and listing[user].kind == 'DIRECTORY'
                       and listing[user].children is None]
            if unknown:
                counts = backend.count_children(unknown)
                for path, number in counts.items():
                    name = posixpath.basename(path)
                    listing[name] = listing[name]._replace(children=number)
        return plan_absent(users, base, listing, force=force)
    return plan_present(users, base, listing, owner=owner, group=group, mode=mode)


def execute(backend, plan, check_mode=False, identity=None):
    """Carry out `plan` with `backend` (nothing is written in check mode); return an Outcome.

    A failure for one user does not stop the others: it is recorded and the run goes on.
    `identity` is the user the backend acts as, when known: a new directory already belongs to
    it, so no SETOWNER is sent when that is also the wanted owner and no group is asked for.
    """
    outcome = Outcome()
    outcome.unchanged = list(plan.unchanged)
    if check_mode:
        outcome.created = [item.user for item in plan.create]
        outcome.fixed = [item.user for item in plan.fix]
        outcome.removed = [item.user for item in plan.remove]
        outcome.base_created = bool(plan.create) and not plan.base_exists
        for item in plan.conflicts:
            outcome.fail(item.user, item.path, 'plan', '%s %s' % (item.path, item.reason))
        return outcome

    if plan.remove:
        users_by_path = dict((item.path, item.user) for item in plan.remove)
        # Only what the plan saw as non-empty (or could not count, under force) goes recursively:
        # a directory planned as empty is deleted non-recursively, so the NameNode refuses it if
        # a file appeared since the listing.
        empty = [item.path for item in plan.remove if item.before.children == 0]
        full = [item.path for item in plan.remove if item.before.children != 0]
        errors = {}
        if empty:
            errors.update(backend.delete(empty, recursive=False))
        if full:
            errors.update(backend.delete(full, recursive=True))
        _record_errors(outcome, errors, users_by_path, 'DELETE')
        outcome.removed = [item.user for item in plan.remove if item.path not in errors]
        for item in plan.conflicts:
            outcome.fail(item.user, item.path, 'plan', '%s %s' % (item.path, item.reason))
        return outcome

    # A path the listing shows as a file is sent to MKDIRS like a missing one: the NameNode's own
    # refusal is what the operator sees, and a file removed since the listing is simply created.
    to_make = list(plan.create) + [item.want for item in plan.conflicts if item.want is not None]
    if to_make and not plan.base_exists:
        errors = backend.mkdirs([plan.base], BASE_MODE)
        if errors:
            error = errors[plan.base]
            raise FatalHdfsError('Cannot create the base directory %s: %s' % (plan.base, error.message),
                                 op=error.op, path=plan.base, exception=error.exception)
        outcome.base_created = True

    users_by_path = dict((item.path, item.user) for item in to_make + plan.fix)
    made = []
    if to_make:
        errors = backend.mkdirs([item.path for item in to_make], plan.mode)
        _record_errors(outcome, errors, users_by_path, 'MKDIRS')
        made = [item for item in to_make if item.path not in errors]

    owner_entries = []
    for item in made:
        if item.group is None and identity is not None and item.owner == identity:
            continue
        owner_entries.append((item.path, item.owner, item.group))
    for item in plan.fix:
        if item.owner is not None or item.group is not None:
            owner_entries.append((item.path, item.owner or item.before.owner, item.group))
    owner_errors = backend.set_owner(owner_entries) if owner_entries else {}
    _record_errors(outcome, owner_errors, users_by_path, 'SETOWNER')

    mode_fixes = [item.path for item in plan.fix if item.mode is not None]
    mode_errors = backend.set_permission(mode_fixes, plan.mode) if mode_fixes else {}
    _record_errors(outcome, mode_errors, users_by_path, 'SETPERMISSION')

    outcome.created = [item.user for item in made if item.path not in owner_errors]
    outcome.fixed = [item.user for item in plan.fix
                     if item.path not in owner_errors and item.path not in mode_errors]
    return outcome


def summarize_failures(failures, limit=20):
    """One line a failure, at most `limit` of them, for the task's error message."""
    lines = ['%s (%s): %s' % (item['path'], item['op'], item['message']) for item in failures[:limit]]
    if len(failures) > limit:
        lines.append('... and %d more (see "failures")' % (len(failures) - limit))
    return '; '.join(lines)
