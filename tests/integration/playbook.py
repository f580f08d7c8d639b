"""Run playbooks the way operators do (ansible-playbook) and read back each task's result.

Integration tests use this instead of calling module code, so argument parsing, check mode,
diff mode and no_log are exercised exactly as in production.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

import yaml

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    data: dict = field(default_factory=dict)

    def task(self, name, host='localhost'):
        """The result dict of the task called `name` on `host` (a role's task by its own name)."""
        for play in self.data.get('plays', []):
            for task in play.get('tasks', []):
                # Role tasks are named "<role> : <name>".
                task_name = task['task']['name']
                if (task_name == name or task_name.endswith(' : ' + name)) and host in task['hosts']:
                    return task['hosts'][host]
        raise KeyError('no result for task %r on %r in:\n%s\n%s' % (name, host, self.stdout, self.stderr))

    def stats(self, host='localhost'):
        return self.data.get('stats', {}).get(host, {})

    @property
    def changed(self):
        return self.stats().get('changed', 0)


def ansible_env(extra=None):
    env = dict(os.environ)
    if 'ANSIBLE_COLLECTIONS_PATH' not in env:
        raise RuntimeError('ANSIBLE_COLLECTIONS_PATH is not set: run the tests through tests/run '
                           '(or source tests/lib/env.sh and call sync_collection).')
    env.update({
        'ANSIBLE_STDOUT_CALLBACK': 'ansible.posix.json',
        'ANSIBLE_NOCOLOR': '1',
        'ANSIBLE_RETRY_FILES_ENABLED': '0',
        'ANSIBLE_LOCALHOST_WARNING': '0',
        'ANSIBLE_INVENTORY_UNPARSED_WARNING': '0',
        # Modules on localhost run with the test suite's own Python (it has requests); discovery
        # could pick a pyenv shim that is not usable.
        'ANSIBLE_PYTHON_INTERPRETER': sys.executable,
    })
    env.update(extra or {})
    return env


def run_playbook(plays, *, check=False, diff=False, extra_vars=None, inventory=None, env=None,
                 verbosity=0, callback='ansible.posix.json', timeout=900):
    """Run `plays` (a playbook path, or a list of plays to dump as YAML) and return a PlaybookRun.

    Without an inventory the plays run against localhost with the local connection.
    """
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(plays, str):
            playbook = plays
        else:
            playbook = os.path.join(tmp, 'playbook.yml')
            with open(playbook, 'w') as handle:
                yaml.safe_dump(plays, handle, sort_keys=False)
        cmd = ['ansible-playbook', playbook]
        if inventory is None:
            cmd += ['-i', 'localhost,', '-c', 'local']
        else:
            cmd += ['-i', inventory]
        if check:
            cmd.append('--check')
        if diff:
            cmd.append('--diff')
        if extra_vars:
            path = os.path.join(tmp, 'extra_vars.json')
            with open(path, 'w') as handle:
                json.dump(extra_vars, handle)
            cmd += ['-e', '@' + path]
        if verbosity:
            cmd.append('-' + 'v' * verbosity)
        run_env = ansible_env(env)
        run_env['ANSIBLE_STDOUT_CALLBACK'] = callback
        proc = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
    data = {}
    if callback.endswith('json'):
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            data = {}
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, data)


def local_play(tasks, **play):
    """One play against localhost with the given tasks."""
    return [dict({'name': 'test', 'hosts': 'localhost', 'gather_facts': False, 'tasks': tasks}, **play)]


# check, apply, check again (must report no change), apply again (no change).
FOUR_WAYS = (('check', True), ('apply', False), ('check again', True), ('apply again', False))


def file_task_four_ways(module, path, env=None, **args):
    """Run `module` on the file `path` the four ways; returns the four results and the file bytes after each."""
    results, contents = [], []
    for step, check in FOUR_WAYS:
        task = {'name': step, module: dict({'path': str(path)}, **args)}
        run = run_playbook(local_play([task]), check=check, diff=True, env=env)
        assert run.rc == 0, run.stdout + run.stderr
        results.append(run.task(step))
        contents.append(path.read_bytes() if path.exists() else None)
    return results, contents


def task_four_ways(task, run=None):
    """Run the task dict `task` the four ways, as the four tasks of one playbook; returns their results.

    Each task is named "<task's name>: <step>", or the step alone for a task without a name.
    `run(tasks)` runs the playbook (default: run_playbook against localhost), so a test can give its
    environment; the playbook must succeed.
    """
    names = ['%s: %s' % (task['name'], step) if task.get('name') else step for step, dummy in FOUR_WAYS]
    tasks = [dict(task, name=name, check_mode=check) for name, (dummy, check) in zip(names, FOUR_WAYS)]
    result = run(tasks) if run else run_playbook(local_play(tasks))
    assert result.rc == 0, result.stdout + result.stderr
    return [result.task(name) for name in names]


def file_task_failing(module, path, env=None, **args):
    """Run `module` on the file `path`, expecting it to fail; returns the failed result."""
    task = {'name': 'fails', module: dict({'path': str(path)}, **args), 'ignore_errors': True}
    run = run_playbook(local_play([task]), env=env)
    assert run.rc == 0, run.stdout + run.stderr
    result = run.task('fails')
    assert result['failed'] is True
    return result
