# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""What the collection's HTTP clients (JupyterHub, WebHDFS) share about failed requests.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import, unit-tested alone.
"""

from __future__ import annotations


def root_cause(exc):
    """The innermost reason of a requests exception, without urllib3's pool preamble.

    urllib3 wraps the reason in errors that quote the whole URL (query included), so the innermost
    one is both the clearer message and the one that cannot carry a credential from the URL.
    """
    seen = set()
    current = exc
    while id(current) not in seen:
        seen.add(id(current))
        reason = getattr(current, 'reason', None)
        if isinstance(reason, BaseException):
            current = reason
        elif current.args and isinstance(current.args[0], BaseException):
            current = current.args[0]
        elif current.__cause__ is not None:
            current = current.__cause__
        else:
            break
    text = str(current) or current.__class__.__name__
    # urllib3 prefixes reasons with the connection object: keep what follows it.
    if text.startswith(('<', 'HTTPConnection', 'HTTPSConnection')) and ': ' in text:
        text = text.split(': ', 1)[1]
    return text
