"""A real Livy server in front of Spark (pyspark 3.5) and the Hadoop rig, as a session fixture.

`livy` runs tests/rigs/livy/start once per session (Livy as OS user `livy` on loopback) with the
`hadoop` fixture's HDFS as fs.defaultFS, and stops it at the end whatever happened. Spark runs on
YARN when the Hadoop rig has a NodeManager (the `hadoop` fixture starts one for a session that
uses this fixture), in local mode otherwise; `livy.master` says which. `livy_rig(hadoop, master)`
starts one more Livy for a `with` block. Anything that fails prints the tails of Livy's log and
of spark-submit's output.

    def test_job(livy):
        result = livy.notebook(conf_dir, livy.job('whoami'), '/user/shirley/out')
        assert result.spark_user == 'shirley', result.explain()

Environment: LIVY_RIG_MASTER=local forces local mode; LIVY_RIG_KEEP=1 keeps the run dir.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
import textwrap
from dataclasses import dataclass, field

import pytest

import rigs

RIG_DIR = os.path.join(str(rigs.RIGS_DIR), 'livy')

# The Spark jobs the tests submit, written into the run dir Livy whitelists.
JOBS = {
    'whoami': '''
        """Reports the Spark user; with a path argument also writes a file there, as that user."""
        import sys
        from pyspark import SparkContext

        sc = SparkContext.getOrCreate()
        print("SPARK_USER=" + sc.sparkUser())
        # One task on an executor, always: on YARN a driver that stops before its
        # ApplicationMaster registered leaves the application FAILED.
        print("TASKS=%d" % sc.parallelize([1], 1).count())
        if len(sys.argv) > 1:
            sc.parallelize([sc.sparkUser()], 1).saveAsTextFile(sys.argv[1])
            print("WROTE=" + sys.argv[1])
        sc.stop()
    ''',
}


@dataclass
class JobResult:
    """One Spark job sent by sparkmagic through Livy: Livy's batch record and spark-submit's log."""

    state: str
    proxy_user: str | None
    app_id: str | None
    seconds: float
    sent: dict
    log: list
    livy: 'LivyRig' = field(repr=False)

    def marker(self, name):
        for line in self.log:
            if line.startswith(name + '='):
                return line.split('=', 1)[1].strip()
        return None

    @property
    def spark_user(self):
        return self.marker('SPARK_USER')

    @property
    def text(self):
        return '\n'.join(self.log)

    def explain(self):
        return ('batch sent %s\nstate %s, proxyUser %s, appId %s, %.1fs\n'
                '----- spark-submit output (last 80 lines) -----\n%s\n%s'
                % (json.dumps(self.sent), self.state, self.proxy_user, self.app_id, self.seconds,
                   '\n'.join(self.log[-80:]), self.livy.log_tail()))


@dataclass
class LivyRig:
    run_dir: str
    hadoop_env_file: str
    master: str
    env: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)

    @property
    def url(self):
        return self.env['LIVY_URL']

    @property
    def conf_path(self):
        return os.path.join(self.env['LIVY_CONF_DIR'], 'livy.conf')

    @property
    def on_yarn(self):
        return self.env.get('LIVY_SPARK_MASTER') == 'yarn'

    def start(self, restart=False):
        options = ['--hadoop-env', self.hadoop_env_file, '--master', self.master]
        if restart:
            options.append('--restart')
        try:
            run = rigs.start('livy', self.run_dir, *options, timeout=1800)
        except rigs.RigError as exc:
            pytest.fail('%s\n%s' % (exc, self.log_tail()), pytrace=False)
        self.env = run.env
        self.timings.setdefault('start', []).append(round(run.seconds, 1))
        self.timings.setdefault('livy_startup', []).append(float(self.env['LIVY_STARTUP_SECONDS']))

    def restart(self):
        """Livy reads livy.conf only at start: what the role's restart handler does on a node."""
        self.start(restart=True)

    def stop(self):
        rigs.stop('livy', self.run_dir)

    def job(self, name):
        path = os.path.join(self.run_dir, 'jobs', name + '.py')
        with open(path, 'w') as handle:
            handle.write(textwrap.dedent(JOBS[name]).lstrip())
        os.chmod(path, 0o644)
        return 'file://' + path

    def sparkmagic_config(self, conf_dir, proxy_user):
        """A hand-written sparkmagic config.json carrying proxyUser (the role renders the real ones)."""
        os.makedirs(conf_dir, exist_ok=True)
        credentials = {'username': '', 'password': '', 'auth': 'None', 'url': self.url}
        with open(os.path.join(conf_dir, 'config.json'), 'w') as handle:
            json.dump({'kernel_python_credentials': credentials,
                       'session_configs': {'proxyUser': proxy_user}}, handle)
        return conf_dir

    def notebook(self, sparkmagic_conf_dir, job, *args):
        """Run `job` the way the notebook user whose sparkmagic config is in that dir would."""
        env = dict(os.environ, SPARKMAGIC_CONF_DIR=sparkmagic_conf_dir, HOME=sparkmagic_conf_dir)
        proc = subprocess.run([self.env['SPARKMAGIC_PYTHON'], os.path.join(RIG_DIR, 'notebook_client.py'),
                               job, *args], capture_output=True, text=True, env=env, timeout=1500,
                              check=False)
        if proc.returncode != 0:
            pytest.fail('sparkmagic client exited %d\n%s\n%s\n%s'
                        % (proc.returncode, proc.stdout[-5000:], proc.stderr[-10000:], self.log_tail()),
                        pytrace=False)
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        result = JobResult(data['state'], data['proxyUser'], data['appId'], data['seconds'],
                           data['sent'], data['log'], self)
        self.timings.setdefault('job', []).append(result.seconds)
        return result

    def log_tail(self, lines=60):
        log_dir = os.path.join(self.run_dir, 'logs')
        return rigs.log_tail(*(os.path.join(log_dir, name) for name in ('livy-server.out', 'livy-server.log')),
                             lines=lines)


@contextlib.contextmanager
def livy_rig(hadoop, master):
    """A started LivyRig on that HadoopRig's HDFS (Spark `master`: local or yarn) for the `with`
    block; stopped, and its run dir removed (unless LIVY_RIG_KEEP=1), at the end."""
    run_dir = rigs.new_run_dir('livy')
    rig = LivyRig(run_dir, os.path.join(hadoop.run_dir, 'rig.env'), master)
    try:
        rig.start()
        yield rig
    finally:
        rig.stop()
        print('\nLivy rig timings (s): %s' % json.dumps(rig.timings))
        if os.environ.get('LIVY_RIG_KEEP') != '1':
            shutil.rmtree(run_dir, ignore_errors=True)


def yarn_app_user(hadoop, app_id):
    """The user YARN's ResourceManager records for an application (its REST API)."""
    import requests
    resp = requests.get('%s/ws/v1/cluster/apps/%s' % (hadoop.env['RM_WEBAPP'], app_id), timeout=30)
    resp.raise_for_status()
    return resp.json()['app']['user']


def hdfs_owner(hadoop, path):
    """Owner of `path` as `hdfs dfs -ls -d` prints it."""
    proc = hadoop.hdfs('dfs', '-ls', '-d', path, user='hdfs', check=True)
    line = [entry for entry in proc.stdout.splitlines() if entry.rstrip().endswith(path)][-1]
    return re.split(r'\s+', line.strip())[2]


@pytest.fixture(scope='session')
def livy(hadoop):
    yarn = hadoop.env.get('NODEMANAGER_ENABLED') == '1' and os.environ.get('LIVY_RIG_MASTER') != 'local'
    # Spark on YARN stages each job under the submitting user's HDFS home; livy's own is made
    # here, as on an EMR master node (the notebook users' homes are the role's job).
    hadoop.hdfs('dfs', '-mkdir', '-p', '/user/livy', user='hdfs', check=True)
    hadoop.hdfs('dfs', '-chown', 'livy', '/user/livy', user='hdfs', check=True)
    with livy_rig(hadoop, 'yarn' if yarn else 'local') as rig:
        print('\nLivy %s, Spark master %s (%s)' % (rig.url, rig.env['LIVY_SPARK_MASTER'],
              'YARN: the rig has a NodeManager' if rig.on_yarn else 'local: no NodeManager in the rig'))
        yield rig
