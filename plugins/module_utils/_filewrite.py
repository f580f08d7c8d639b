# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Atomic config-file writes shared by livy_config and hadoop_config.

This module_util is private to the datalake.notebooks collection; its API may change at any time.

Every OS error on the way (read, backup, temporary file, rename, attributes) ends the module with
fail_json naming the file, and the file is then left exactly as it was.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time


def resolve(path):
    """The file to read and write for `path`: its final target when it is a symlink.

    /etc/hadoop/conf -> /etc/alternatives/... is the norm; writing through to the target (as
    lineinfile and copy do) keeps the links, where renaming onto the link would replace it with a
    regular file and leave the real configuration behind.
    """
    return os.path.realpath(path)


def _reason(exc):
    """The OS reason of an error, also when Ansible wrapped the OSError in a plain Exception."""
    cause = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, OSError):
        return cause.strerror or str(cause), cause.errno
    return str(exc), None


def read_text(path):
    """Return the file's text, or None when it does not exist.

    Files are read and written as bytes decoded with surrogateescape, so bytes the module does not
    touch come back exactly as they were, whatever their encoding.
    """
    try:
        with open(path, 'rb') as handle:
            return handle.read().decode('utf-8', 'surrogateescape')
    except FileNotFoundError:
        return None


def read_or_fail(module, path, result):
    """read_text() of the link target of `path`; any OS error fails the module naming the file."""
    try:
        return read_text(resolve(path))
    except OSError as exc:
        module.fail_json(msg='Cannot read %s: %s.' % (path, exc.strerror or exc), **result)


def _fail(module, path, what, exc, result, hint=''):
    reason, dummy = _reason(exc)
    module.fail_json(msg='Cannot %s %s: %s.%s The file was not changed.' % (what, path, reason, hint), **result)


def write_text_atomic(module, path, text, result=None):
    """Write text to path (its link target) through a temp file beside it and module.atomic_move.

    A reader sees either the old file or the new one, never a half-written file. The temporary
    file is created 0600, and an existing file's mode is copied onto it before the rename, so
    the new content is never readable by more users than the old one. Honours the module's
    `unsafe_writes` the way Ansible's own modules do: only when the rename cannot be done (a
    bind-mounted file: EBUSY), the file is written in place. Makes a backup first when the
    module's `backup` option is set; returns the backup file name or None. Any OS error fails
    the module with the file unchanged. Never call in check mode.
    """
    result = {} if result is None else result
    real = resolve(path)
    directory = os.path.dirname(real)
    if not os.path.isdir(directory):
        module.fail_json(msg='Cannot write %s: directory %s does not exist.' % (path, directory), **result)
    existed = os.path.exists(real)
    backup_file = None
    if module.params.get('backup') and existed:
        backup_file = _backup(module, path, real, result)
    try:
        # mkstemp creates the file 0600, whatever the umask.
        fd, tmp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(real), dir=directory)
    except OSError as exc:
        _remove_backup(backup_file)
        _fail(module, path, 'create a temporary file beside', exc, result)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(text.encode('utf-8', 'surrogateescape'))
            handle.flush()
            os.fsync(handle.fileno())
        if existed:
            module.atomic_move(tmp_path, real, unsafe_writes=module.params.get('unsafe_writes', False))
        else:
            _create(module, tmp_path, real)
    except Exception as exc:  # atomic_move raises plain Exceptions wrapping the OSError
        _cleanup(tmp_path)
        _remove_backup(backup_file)
        dummy, code = _reason(exc)
        hint = ''
        if code == errno.EBUSY and not module.params.get('unsafe_writes'):
            hint = (' It cannot be replaced by a rename (a bind-mounted file?); set unsafe_writes: true'
                    ' to let the module write it in place.')
        _fail(module, path, 'write', exc, result, hint)
    _cleanup(tmp_path)
    return backup_file


def _backup(module, path, real, result):
    backup_file = '%s.%s.%s' % (real, os.getpid(), _timestamp())
    try:
        module.preserved_copy(real, backup_file)
    except Exception as exc:  # shutil.Error, OSError
        _remove_backup(backup_file)
        _fail(module, path, 'back up', exc, result, ' Set backup: false to change it without a backup.'
              if _reason(exc)[1] in (errno.EROFS, errno.EACCES, errno.ENOSPC) else '')
    return backup_file


def _timestamp():
    # The name module.backup_local gives its copies.
    return time.strftime('%Y-%m-%d@%H:%M:%S~', time.localtime(time.time()))


def _create(module, tmp_path, real):
    """Rename the 0600 temp file to a new file name; its mode is set afterwards.

    atomic_move would chmod a new file to 0666 & ~umask after the rename, so a secret would be
    world-readable until the requested mode is applied.
    """
    os.rename(tmp_path, real)
    dir_stat = os.stat(os.path.dirname(real))
    try:
        # The group atomic_move gives a new file: the directory's when it is setgid.
        gid = dir_stat.st_gid if dir_stat.st_mode & 0o2000 else os.getegid()
        os.chown(real, os.geteuid(), gid)
    except OSError:
        pass
    if module.selinux_enabled():
        module.set_context_if_different(real, module.selinux_default_context(real), False)


def _cleanup(tmp_path):
    try:
        os.unlink(tmp_path)
    except OSError:
        pass


def _remove_backup(backup_file):
    if backup_file:
        _cleanup(backup_file)


def apply_file_attributes(module, path, changed, diff=None, result=None, note=''):
    """Apply owner/group/mode from the module's common file args; returns the new changed flag.

    `diff`, when given, must be a dict of its own: Ansible records attribute changes in it as
    dicts (diff['before']['mode']), not in the text diff of file_diff(). A failure ends the module
    with a message naming the file and the OS reason, without Ansible's traceback.
    """
    real = resolve(path)
    file_args = module.load_file_common_arguments(module.params, path=real)
    if module.check_mode and not os.path.exists(real):
        # The file would be created; its attributes are part of that change.
        return changed
    fail_json = module.fail_json

    def clean_fail(msg='', exception=None, details=None, **dummy):
        reason = _reason(exception)[0] if isinstance(exception, BaseException) else details
        fail_json(msg='Cannot set the owner, group or mode of %s: %s%s.%s' % (
            path, msg, ': %s' % reason if reason else '', note), **(result or {}))

    module.fail_json = clean_fail
    try:
        return module.set_fs_attributes_if_different(file_args, changed, diff=diff)
    finally:
        module.fail_json = fail_json


def file_diff(path, before, after):
    """Diff-mode dict with the real file text before and after."""
    return {
        'before': before if before is not None else '',
        'after': after if after is not None else '',
        'before_header': path if before is not None else '%s (absent)' % path,
        'after_header': path,
    }


def finish(module, path, before, after, changed, result, display=None):
    """The common end of a config module: write `after` when it changed (never in check mode),
    apply file attributes, and add the diff. Returns `result`, updated.

    `display(text)`, when given, turns a file text into what the diff may show (secrets hidden).
    Attributes of an existing file are applied before the new content lands, so a narrower
    `mode` is in place before a new secret is written; a new file gets them right after its
    rename (it is 0600 until then).
    """
    attributes_diff = {}
    exists = before is not None
    attributes_changed = False
    if exists or module.check_mode:
        attributes_changed = apply_file_attributes(module, path, False, attributes_diff, result,
                                                   ' The file was not changed.')
    if changed and not module.check_mode:
        backup_file = write_text_atomic(module, path, after, result)
        if backup_file:
            result['backup_file'] = backup_file
        if not exists:
            if module.params.get('mode') is None:
                umask = os.umask(0)
                os.umask(umask)
                try:
                    # The mode a new file gets without `mode`: what atomic_move would give it.
                    os.chmod(resolve(path), 0o666 & ~umask)
                except OSError as exc:
                    module.fail_json(msg='Cannot set the mode of %s: %s. The new file is readable by its owner'
                                     ' only.' % (path, exc.strerror or exc), **result)
            attributes_changed = apply_file_attributes(module, path, False, attributes_diff, result,
                                                       ' The new file is readable by its owner only.')
    result['changed'] = changed or attributes_changed
    if module._diff:
        show = display or (lambda text: text)
        result['diff'] = [file_diff(path, show(before) if exists else None, show(after))]
        if attributes_diff:
            result['diff'].append(attributes_diff)
    return result


def edit_config_file(module, path, result, edit, absent_result=None):
    """The one path of a config module: read `path`, deal with a missing file, edit, write, exit.

    `edit(before)` gets the file's text, or None for a file to create, and returns
    (after, display): the new text, and the function that hides secrets in a text for the diff
    (or None). It fails the module itself on a file it cannot edit, before anything is written.
    A missing file with state=absent exits unchanged, adding `absent_result` to `result`; with
    create=false it fails. Never returns.
    """
    before = read_or_fail(module, path, result)
    if before is None:
        if module.params['state'] == 'absent':
            result.update(absent_result or {})
            module.exit_json(**result)
        if not module.params['create']:
            module.fail_json(msg='%s does not exist; set create: true to create it.' % path, **result)
    after, display = edit(before)
    changed = before is None or after != before
    module.exit_json(**finish(module, path, before, after, changed, result, display=display))
