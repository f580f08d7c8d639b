"""The one Python side of the rigs (tests/rigs/*, contract in tests/rigs/README.md), for the
integration fixtures and the benchmarks: start and stop a rig, read its rig.env, tail its logs,
put a file it reads back as it was.

Every rig is `tests/rigs/NAME/start [OPTIONS] [RUN_DIR]` and `tests/rigs/NAME/stop [RUN_DIR]`; start
writes RUN_DIR/rig.env (shell-quoted KEY='value' lines) once the rig is up. What a rig needs is
passed to it explicitly (options, `env`); nothing here reads or changes os.environ.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RIGS_DIR = REPO_ROOT / 'tests' / 'rigs'


class RigError(RuntimeError):
    """A rig's start script failed; the message holds its output (the reason and the log tails)."""


@dataclass
class RigRun:
    """A rig that is up: its name, run dir, the values of its rig.env, how long start took."""

    name: str
    run_dir: str
    env: dict
    seconds: float = 0.0


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


def script(name, action):
    """tests/rigs/NAME/ACTION (start, stop, install)."""
    return str(RIGS_DIR / name / action)


def new_run_dir(name):
    """A fresh run dir under /tmp that the daemons' users (hdfs, yarn, livy) can reach, which
    pytest's own temp dirs (mode 700 under root's) are not."""
    run_dir = tempfile.mkdtemp(prefix='%s-rig-' % name, dir='/tmp')
    os.chmod(run_dir, 0o755)
    return run_dir


def start(name, run_dir, *options, env=None, timeout=900, retry_if=None):
    """Run `tests/rigs/NAME/start OPTIONS RUN_DIR`; the RigRun, or RigError with start's output.

    `env` replaces the environment start sees (None: this process's). `retry_if`: a text of
    start's stderr that makes it worth one more try (a port taken between pick and bind).
    """
    cmd = [script(name, 'start'), *map(str, options), str(run_dir)]
    began = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
        if proc.returncode != 0 and retry_if and retry_if in proc.stderr:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    except subprocess.TimeoutExpired as exc:
        raise RigError('tests/rigs/%s/start did not end within %ds\n%s\n%s'
                       % (name, timeout, exc.stdout or '', (exc.stderr or '')[-20000:])) from exc
    if proc.returncode != 0:
        raise RigError('tests/rigs/%s/start exited %d\n%s\n%s'
                       % (name, proc.returncode, proc.stdout, proc.stderr[-20000:]))
    env_file = os.path.join(run_dir, 'rig.env')
    return RigRun(name, str(run_dir), read_env_file(env_file), time.monotonic() - began)


def stop(name, run_dir, timeout=120):
    """Run `tests/rigs/NAME/stop RUN_DIR`; never raises (a rig half started is stopped too)."""
    try:
        return subprocess.run([script(name, 'stop'), str(run_dir)], capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        return exc


@contextlib.contextmanager
def running(name, *options, run_dir=None, keep=False, **start_args):
    """A rig up for the `with` block: started into `run_dir` (default: a new_run_dir), stopped at
    the end whatever happened (also when start failed half-way), the run dir removed unless
    `keep` or it was given. Yields the RigRun; raises RigError when start fails."""
    made = run_dir is None
    run_dir = new_run_dir(name) if made else str(run_dir)
    try:
        yield start(name, run_dir, *options, **start_args)
    finally:
        stop(name, run_dir)
        if made and not keep:
            shutil.rmtree(run_dir, ignore_errors=True)


def log_tail(*paths, lines=50):
    """The last `lines` of each file (a directory: each file in it), for assertion messages.
    A daemon's start-up banner holds a whole classpath on one line: lines are cut at 1000."""
    files = []
    for path in map(str, paths):
        if os.path.isdir(path):
            files += [os.path.join(path, entry) for entry in sorted(os.listdir(path))
                      if os.path.isfile(os.path.join(path, entry))]
        else:
            files.append(path)
    out = []
    for path in files:
        try:
            with open(path, errors='replace') as handle:
                tail = ''.join(line[:1000] for line in handle.readlines()[-lines:])
        except OSError as exc:
            tail = '(%s)\n' % exc
        out.append('----- %s (last %d lines) -----\n%s' % (path, lines, tail))
    return '\n'.join(out)


@contextlib.contextmanager
def restored(*paths, after=None):
    """Files a rig reads (core-site.xml, livy.conf) changed inside the `with` block are put back
    as they were at the end, whatever happened; then `after()` (if given) makes the rig read
    them again (a -refreshSuperUserGroupsConfiguration). The copies are kept outside the rig's
    conf dir, which the tests may list."""
    keep = tempfile.mkdtemp(prefix='rig-restore-')
    saved = []
    try:
        for number, path in enumerate(map(str, paths)):
            copy = os.path.join(keep, '%d-%s' % (number, os.path.basename(path)))
            shutil.copy2(path, copy)
            saved.append((copy, path))
        yield paths[0] if len(paths) == 1 else paths
    finally:
        try:
            for copy, path in saved:
                # Into the same file (its inode, owner): the daemons read it by name anyway.
                shutil.copy2(copy, path)
        finally:
            shutil.rmtree(keep, ignore_errors=True)
        if after is not None:
            after()
