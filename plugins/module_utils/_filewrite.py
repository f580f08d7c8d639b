# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Atomic config-file writes shared by livy_config and hadoop_config.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
"""

from __future__ import annotations

import os
import tempfile


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


def write_text_atomic(module, path, text):
    """Write text to path through a temp file in the same directory and module.atomic_move.

    A reader sees either the old file or the new one, never a half-written file. Makes a backup
    first when the module's `backup` option is set; returns the backup file name or None.
    Never call in check mode.
    """
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        module.fail_json(msg='Cannot write %s: directory %s does not exist.' % (path, directory), path=path)
    backup_file = None
    if module.params.get('backup') and os.path.exists(path):
        backup_file = module.backup_local(path)
    fd, tmp_path = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(text.encode('utf-8', 'surrogateescape'))
            handle.flush()
            os.fsync(handle.fileno())
        # unsafe_writes=False: never fall back to writing the target in place.
        module.atomic_move(tmp_path, os.path.abspath(path), unsafe_writes=False)
    except Exception:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise
    return backup_file


def apply_file_attributes(module, path, changed, diff=None):
    """Apply owner/group/mode from the module's common file args; returns the new changed flag.

    `diff`, when given, must be a dict of its own: Ansible records attribute changes in it as
    dicts (diff['before']['mode']), not in the text diff of file_diff().
    """
    file_args = module.load_file_common_arguments(module.params, path=path)
    if module.check_mode and not os.path.exists(path):
        # The file would be created; its attributes are part of that change.
        return changed
    return module.set_fs_attributes_if_different(file_args, changed, diff=diff)


def file_diff(path, before, after):
    """Diff-mode dict with the real file text before and after."""
    return {
        'before': before if before is not None else '',
        'after': after if after is not None else '',
        'before_header': path if before is not None else '%s (absent)' % path,
        'after_header': path,
    }


def finish(module, path, before, after, changed, result):
    """The common end of a config module: write `after` when it changed (never in check mode),
    apply file attributes, and add the diff. Returns `result`, updated.
    """
    if changed and not module.check_mode:
        try:
            backup_file = write_text_atomic(module, path, after)
        except OSError as exc:
            module.fail_json(msg='Cannot write %s: %s. The file was not changed.' % (path, exc.strerror or exc),
                             **result)
        if backup_file:
            result['backup_file'] = backup_file
    attributes_diff = {}
    result['changed'] = apply_file_attributes(module, path, changed, diff=attributes_diff)
    if module._diff:
        result['diff'] = [file_diff(path, before, after)]
        if attributes_diff:
            result['diff'].append(attributes_diff)
    return result
