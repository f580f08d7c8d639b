# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""Options of every module that talks to the JupyterHub REST API."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  url:
    description:
      - The hub's public base URL, as users open it in a browser, for example V(https://master:9443).
      - Include the hub's C(base_url) prefix if it has one. The module adds C(/hub/api) itself.
      - A URL with a query, a fragment or user info is refused (a C(?token=) parameter would be a
        credential); the token goes in O(api_token).
    type: str
    required: true
  api_token:
    description:
      - A JupyterHub API token (of a service or a user) whose role grants the scopes the task needs,
        C(list:users) to read users, C(admin:users) to create or remove them.
      - If not given, the E(JUPYTERHUB_API_TOKEN) environment variable of the module's process is used
        (on the managed node; with a local connection, the controller's environment).
      - Prefer this option, from a vault, to the C(environment) task keyword, because Ansible shows the
        C(environment) values in C(-vvv) output, while this option is never shown.
      - Whitespace around the token (the final newline of a YAML block scalar or of a file read whole)
        is removed. A token with whitespace, control characters or non-ASCII characters inside is
        refused before any request, and the message does not show it.
    type: str
  validate_certs:
    description:
      - Verify the hub's TLS certificate.
      - Set O(ca_path) rather than turning this off when the hub uses a private CA or a
        self-signed certificate.
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file of the CA certificate(s) that signed the hub's certificate, used instead of the
        system's trust store.
    type: path
  timeout:
    description:
      - Seconds to wait for each answer of the hub.
      - Failed connections, connection resets, HTTP 429 and 5xx answers are retried three times
        with exponential backoff before the module fails.
    type: float
    default: 30
requirements:
  - requests (Python library on the managed node)
"""
