"""What the fixtures and the benchmarks share about the rigs (tests/rigs/*): their env files and ports.

Each rig's start script writes RUN_DIR/rig.env, shell-quoted KEY='value' lines, for the Python
side to read; the servers bind ports picked here.
"""

from __future__ import annotations

import shlex
import socket
from pathlib import Path


def read_env_file(path):
    """The KEY='value' lines of a rig's env file as a dict, unquoted as the shell would."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith('#') or '=' not in line:
            continue
        key, dummy, value = line.partition('=')
        values[key] = shlex.split(value)[0] if value else ''
    return values


def free_port():
    """A loopback TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]
