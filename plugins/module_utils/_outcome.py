# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""What an edit of a configuration document did, the same for every parser (_propfile, _hadoop_xml).

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import.
"""

from __future__ import annotations


class Outcome:
    """The result of `parse(text).edit(set=..., remove=...)`.

    text is the edited text (the input itself when nothing changed) and document its parse; values
    maps each name asked for to what the program reading the file takes for it after the edit (None:
    nothing); added, updated and removed list the names concerned; collapsed the names whose
    duplicate definitions became one; warnings are notes for the user, ready to show.
    """

    def __init__(self, text, changed, document, values, added=(), updated=(), removed=(), collapsed=(),
                 warnings=()):
        self.text = text
        self.changed = changed
        self.document = document
        self.values = values
        self.added = list(added)
        self.updated = list(updated)
        self.removed = list(removed)
        self.collapsed = list(collapsed)
        self.warnings = list(warnings)
