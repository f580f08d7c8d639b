"""Benchmark of hdfs_homedir and jupyterhub_users against the EMR guide's per-user loop.

Run it through bench/run, which prepares the virtualenv and the collection. Every case drives the
modules the way an operator does, with `ansible localhost -m ...`, so Ansible's own start-up and
templating are in the wall time; the module's own `elapsed` and `requests` are reported next to
it. NameNode operations are counted independently from the NameNode's audit log (the Hadoop rig is
started with HDFS_NAMENODE_OPTS=-Dhdfs.audit.logger=INFO,console, so audit lines land in
namenode.log). Between cases the base directory is emptied as the HDFS superuser, so each first
run starts from a clean state and the re-run right after it finds everything in place.

Results are written to bench/results/last.json after every case, so an interrupted run can still be
rendered (`bench/run --render bench/results/last.json`).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RIGS = REPO / 'tests' / 'rigs'
RESULTS = HERE / 'results' / 'last.json'
DOC = REPO / 'docs' / 'benchmarks.md'
PLOT = REPO / 'docs' / 'benchmarks.png'
FINDINGS = HERE / 'findings.md'
# The rigs are started, stopped and read as the integration fixtures do.
sys.path.insert(0, str(REPO / 'tests' / 'integration'))
import rigs  # noqa: E402  pylint: disable=wrong-import-position
BASE = '/user'
HDFS_SUPERUSER = 'hdfs'
# Hadoop's metrics system refreshes what JMX shows every 10 s (its default period).
JMX_SETTLE = 11

TARGETS = dict(rerun_10k_module_s=3.0, rerun_10k_nn_ops=10, first_10k_module_s=60.0,
               speedup_100=50.0, hub_list_10k_s=5.0,
               rpc_first_10k_module_s=12.0, rpc_first_vs_peer=2.0, rpc_rerun_10k_module_s=0.5,
               webhdfs_first_within_peer=1.5)
# The cases that need the Hadoop rig.
HDFS_CASES = {'webhdfs', 'cli', 'emr', 'rpc', 'java'}
PEER = HERE / 'HomeDirs.java'
# The module's default, used by the Java peer's thread pool too.
WORKERS = 16


class BenchError(Exception):
    pass


def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)


def collection_import(name):
    """A module of the collection as Ansible finds it (bench/run puts it on PYTHONPATH)."""
    import importlib
    return importlib.import_module('ansible_collections.datalake.notebooks.' + name)


def user_names(count):
    return ['nbuser%05d' % index for index in range(count)]


def median(values):
    values = [value for value in values if value is not None]
    return statistics.median(values) if values else None


def loadavg():
    return round(os.getloadavg()[0], 2)


# ---------------------------------------------------------------------------------------------
# The rigs


class HadoopRig:
    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.env = None

    def start(self):
        log('starting the Hadoop rig in %s (NameNode audit log on)' % self.run_dir)
        env = dict(os.environ, HDFS_NAMENODE_OPTS='-Dhdfs.audit.logger=INFO,console')
        self.env = rigs.start('hadoop', self.run_dir, '--no-yarn', env=env).env

    def stop(self):
        rigs.stop('hadoop', self.run_dir)

    @property
    def audit_log(self):
        return self.run_dir / 'logs' / 'namenode.log'

    @property
    def hdfs(self):
        return str(Path(self.env['HADOOP_HOME']) / 'bin' / 'hdfs')

    def client_env(self):
        return dict(os.environ, HADOOP_CONF_DIR=self.env['HADOOP_CONF_DIR'], JAVA_HOME=self.env['JAVA_HOME'],
                    HADOOP_USER_NAME=HDFS_SUPERUSER)


class HubRig:
    def __init__(self, run_dir):
        self.run_dir = Path(run_dir)
        self.env = None

    def start(self):
        log('starting the JupyterHub rig in %s' % self.run_dir)
        self.env = rigs.start('jupyterhub', self.run_dir, timeout=600).env

    def stop(self):
        rigs.stop('jupyterhub', self.run_dir)

    def token(self, kind):
        return Path(self.env['JUPYTERHUB_%s_TOKEN_FILE' % kind.upper()]).read_text().strip()

    @property
    def url(self):
        return self.env['JUPYTERHUB_URL']

    @property
    def log_file(self):
        return Path(self.env['JUPYTERHUB_LOG'])


class LogCounter:
    """Lines a daemon appends to its log between mark() and count(mark)."""

    def __init__(self, path, marker, key):
        self.path = Path(path)
        self.marker = marker
        self.key = re.compile(key)

    def mark(self):
        return self.path.stat().st_size

    def lines(self, mark):
        with self.path.open('rb') as stream:
            stream.seek(mark)
            text = stream.read().decode('utf-8', 'replace')
        return [line for line in text.splitlines() if self.marker in line]

    def count(self, mark):
        kinds = collections.Counter()
        for line in self.lines(mark):
            found = self.key.search(line)
            kinds[found.group(1) if found else '?'] += 1
        return sum(kinds.values()), dict(kinds)

    def server_seconds(self, mark):
        """The sum of the request times the server logged itself (`... 12.34ms` at the end)."""
        total = 0.0
        for line in self.lines(mark):
            found = re.search(r' ([\d.]+)ms$', line)
            if found:
                total += float(found.group(1)) / 1000
        return round(total, 3)


def audit_counter(rig):
    # FSNamesystem.audit: allowed=true  ugi=hdfs (auth:SIMPLE)  ip=/127.0.0.1  cmd=mkdirs  src=/user/x ...
    return LogCounter(rig.audit_log, 'FSNamesystem.audit:', r'\tcmd=(\S+)')


def hub_api_counter(hub):
    # [I 2026-11-23 11:40:01.123 JupyterHub log:192] 200 GET /hub/api/users?offset=0&limit=... (ops@127.0.0.1) 9.1ms
    return LogCounter(hub.log_file, ' /hub/api/', r'\] \d{3} (\w+ /hub/api/[a-z]*)')


class NameNode:
    """Direct WebHDFS calls for the benchmark's own setup (never inside a timed window)."""

    def __init__(self, http):
        self.http = http.rstrip('/')
        self.session = requests.Session()

    def op(self, method, path, op, **params):
        params = dict(params, op=op)
        params['user.name'] = HDFS_SUPERUSER
        answer = self.session.request(method, self.http + '/webhdfs/v1' + path, params=params, timeout=300)
        if answer.status_code != 200:
            raise BenchError('WebHDFS %s %s: HTTP %s %s' % (op, path, answer.status_code, answer.text[:300]))
        return answer.json() if answer.content else None

    def reset_base(self):
        """An empty BASE, as the rig made it: hdfs:supergroup 755."""
        self.op('DELETE', BASE, 'DELETE', recursive='true')
        self.op('PUT', BASE, 'MKDIRS', permission='755')
        self.op('PUT', BASE, 'SETOWNER', owner=HDFS_SUPERUSER, group='supergroup')
        self.op('PUT', BASE, 'SETPERMISSION', permission='755')

    def listing_pages(self):
        """The NameNode's GetListingOps counter (JMX): one per page of a directory listing.

        The audit log has one `listStatus` per WebHDFS LISTSTATUS, however many pages the NameNode
        reads to stream the answer (the later pages are read outside the request's audit context);
        this counter sees every page. JMX serves a copy of the counters refreshed at most every
        JMX_SETTLE seconds, so a read counts only what happened before the NameNode was left quiet
        that long.
        """
        time.sleep(JMX_SETTLE)
        answer = self.session.get(self.http + '/jmx', params=dict(qry='Hadoop:service=NameNode,name=NameNodeActivity'),
                                  timeout=60)
        answer.raise_for_status()
        return int(answer.json()['beans'][0]['GetListingOps'])

    def homes(self):
        listing = self.op('GET', BASE, 'LISTSTATUS')['FileStatuses']['FileStatus']
        return dict((entry['pathSuffix'], entry) for entry in listing)


# ---------------------------------------------------------------------------------------------
# Running things


class Ansible:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.binary = str(Path(sys.executable).parent / 'ansible')

    def run(self, module, args, variables, env=None):
        """(wall seconds, module result) of one `ansible localhost -m module -a args`."""
        vars_file = self.workdir / 'vars.json'
        vars_file.write_text(json.dumps(dict(variables, ansible_python_interpreter=sys.executable)))
        command = [self.binary, 'localhost', '-i', 'localhost,', '-c', 'local', '-o',
                   '-e', '@%s' % vars_file, '-m', module, '-a', json.dumps(args)]
        environ = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='False',
                       ANSIBLE_INVENTORY_UNPARSED_WARNING='False', ANSIBLE_DEPRECATION_WARNINGS='False',
                       **(env or {}))
        started = time.monotonic()
        process = subprocess.run(command, capture_output=True, text=True, env=environ, check=False)
        wall = time.monotonic() - started
        for line in process.stdout.splitlines():
            status, sep, body = line.partition(' => ')
            if sep and status.startswith('localhost |'):
                result = json.loads(body)
                if 'SUCCESS' not in status and 'CHANGED' not in status:
                    raise BenchError('%s failed: %s' % (module, result.get('msg', body[:500])))
                return wall, result
        raise BenchError('no result from ansible (rc %s):\n%s\n%s'
                         % (process.returncode, process.stdout[-2000:], process.stderr[-2000:]))


class Bench:
    def __init__(self, options):
        self.options = options
        self.run_root = Path(options.run_root)
        self.hadoop = HadoopRig(self.run_root / 'hadoop')
        self.hub = HubRig(self.run_root / 'hub')
        self.workdir = Path(tempfile.mkdtemp(prefix='work-', dir=self.run_root))
        self.ansible = Ansible(self.workdir)
        command = ' '.join(['bench/run'] + sys.argv[1:])
        self.supplement = None
        if options.add_to:
            # Cases of this run replace the cases with the same id in an earlier run's results.
            self.results = json.loads(Path(options.add_to).read_text())
            self.supplement = dict(command=command, started=now(), cases=[],
                                   load_before=machine()['load_before'])
            self.results.setdefault('supplements', []).append(self.supplement)
        else:
            self.results = dict(started=now(), command=command, options=vars(options), machine=machine(), cases=[])

    def save(self):
        if self.supplement is not None:
            # An earlier supplement whose cases this run all replaced no longer describes any row.
            self.results['supplements'] = [
                supplement for supplement in self.results['supplements']
                if supplement is self.supplement or not set(supplement['cases']) <= set(self.supplement['cases'])]
        (self.supplement or self.results)['finished'] = now()
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(self.results, indent=1, sort_keys=True) + '\n')

    def add_case(self, case):
        cases = self.results['cases']
        for index, earlier in enumerate(cases):
            if earlier['id'] == case['id']:
                cases[index] = case
                break
        else:
            cases.append(case)
        if self.supplement is not None:
            self.supplement['cases'].append(case['id'])
        self.save()
        print(format_text_table([case]), flush=True)

    # HDFS ---------------------------------------------------------------------------------------

    def homedir_case(self, backend, count):
        namenode = NameNode(self.hadoop.env['NAMENODE_HTTP'])
        audit = audit_counter(self.hadoop)
        users = user_names(count)
        args = dict(users='{{ bench_users }}', backend=backend, namenode_url=self.hadoop.env['NAMENODE_HTTP'],
                    hdfs_user=HDFS_SUPERUSER)
        if backend == 'rpc':
            args['namenode_url'] = self.hadoop.env['NAMENODE_RPC']
        if backend == 'cli':
            args.update(hdfs_bin=self.hadoop.hdfs, hadoop_conf_dir=self.hadoop.env['HADOOP_CONF_DIR'])
            del args['namenode_url']
        case = dict(id='%s-%d' % (backend, count), approach='hdfs_homedir (%s)' % backend, backend=backend,
                    users=count, runs=dict(first=[], rerun=[]))
        repeats = self.options.cli_repeats if backend == 'cli' else self.options.repeats
        for repeat in range(repeats):
            namenode.reset_base()
            for kind in ('first', 'rerun'):
                log('hdfs_homedir %s, %d users, %s run %d/%d' % (backend, count, kind, repeat + 1, repeats))
                count_pages = kind == 'rerun' and backend in ('webhdfs', 'rpc')
                pages = namenode.listing_pages() if count_pages else None
                mark, load = audit.mark(), loadavg()
                wall, result = self.ansible.run('datalake.notebooks.hdfs_homedir', args, dict(bench_users=users))
                ops, by_cmd = audit.count(mark)
                if count_pages:
                    pages = namenode.listing_pages() - pages
                expected = ('created', count) if kind == 'first' else ('unchanged', count)
                if result.get(expected[0]) != expected[1]:
                    raise BenchError('%s run at %d users: %s=%s, expected %d'
                                     % (kind, count, expected[0], result.get(expected[0]), expected[1]))
                case['runs'][kind].append(dict(wall=round(wall, 3), module=result.get('elapsed'),
                                               requests=result.get('requests'), nn_ops=ops, nn_ops_by_cmd=by_cmd,
                                               nn_pages=pages, changed=result.get('changed'), load=load))
        return case

    def compile_peer(self):
        """The Java peer's classes, compiled against the rig's own Hadoop jars."""
        classes = self.workdir / 'peer-classes'
        classes.mkdir(exist_ok=True)
        jars = str(Path(self.hadoop.env['HADOOP_HOME']) / 'share' / 'hadoop' / 'lib' / '*')
        javac = str(Path(self.hadoop.env['JAVA_HOME']) / 'bin' / 'javac')
        log('compiling the Java peer (%s) against the rig\'s jars' % PEER.name)
        done = subprocess.run([javac, '-d', str(classes), '-cp', jars, str(PEER)], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            raise BenchError('javac %s: %s' % (PEER.name, done.stderr[-2000:]))
        return '%s:%s:%s' % (classes, self.hadoop.env['HADOOP_CONF_DIR'], jars)

    def java_case(self, classpath, count):
        """The one-JVM peer: FileSystem API, list once, then mkdirs/setPermission/setOwner per new home."""
        namenode = NameNode(self.hadoop.env['NAMENODE_HTTP'])
        audit = audit_counter(self.hadoop)
        users_file = self.workdir / ('users-%d.txt' % count)
        users_file.write_text(''.join(name + '\n' for name in user_names(count)))
        java = str(Path(self.hadoop.env['JAVA_HOME']) / 'bin' / 'java')
        command = [java, '-cp', classpath, PEER.stem, BASE, '750', str(WORKERS), str(users_file)]
        env = dict(os.environ, HADOOP_USER_NAME=HDFS_SUPERUSER)
        case = dict(id='java-%d' % count, approach='one JVM, FileSystem API (peer)', users=count,
                    runs=dict(first=[], rerun=[]))
        for repeat in range(self.options.repeats):
            namenode.reset_base()
            for kind in ('first', 'rerun'):
                log('Java peer, %d users, %s run %d/%d' % (count, kind, repeat + 1, self.options.repeats))
                mark, load = audit.mark(), loadavg()
                started = time.monotonic()
                done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
                wall = time.monotonic() - started
                ops, by_cmd = audit.count(mark)
                if done.returncode != 0:
                    raise BenchError('Java peer failed (rc %s): %s' % (done.returncode, done.stderr[-2000:]))
                result = json.loads(done.stdout.strip().splitlines()[-1])
                expected = ('created', count) if kind == 'first' else ('unchanged', count)
                if result.get(expected[0]) != expected[1]:
                    raise BenchError('Java peer %s run at %d users: %s' % (kind, count, result))
                case['runs'][kind].append(dict(wall=round(wall, 3), module=result['seconds'], requests=result['calls'],
                                               nn_ops=ops, nn_ops_by_cmd=by_cmd, load=load))
            homes = namenode.homes()
            wrong = [name for name, entry in homes.items() if (entry['owner'], entry['permission']) != (name, '750')]
            if len(homes) != count or wrong:
                raise BenchError('Java peer left %d homes (%d wrong), expected %d' % (len(homes), len(wrong), count))
        return case

    def warm_up(self):
        """A fresh NameNode answers its first thousands of requests slowly (JIT): not what is measured."""
        log('warming the NameNode up (1,000 homes, created and listed, not measured)')
        namenode = NameNode(self.hadoop.env['NAMENODE_HTTP'])
        namenode.reset_base()
        args = dict(users='{{ bench_users }}', namenode_url=self.hadoop.env['NAMENODE_HTTP'], hdfs_user=HDFS_SUPERUSER)
        for dummy in range(2):
            self.ansible.run('datalake.notebooks.hdfs_homedir', args, dict(bench_users=user_names(1000)))
        subprocess.run([self.hadoop.hdfs, 'dfs', '-ls', BASE], env=self.hadoop.client_env(),
                       stdout=subprocess.DEVNULL, check=True)
        namenode.reset_base()

    def emr_case(self, count):
        """The EMR guide's script: per user, `hdfs dfs -mkdir -p` then `hdfs dfs -chmod 777`."""
        namenode = NameNode(self.hadoop.env['NAMENODE_HTTP'])
        audit = audit_counter(self.hadoop)
        env = self.hadoop.client_env()
        users = user_names(count)
        case = dict(id='emr-%d' % count, approach='EMR guide loop (hdfs dfs)', users=count,
                    runs=dict(first=[], rerun=[]))
        for repeat in range(self.options.emr_repeats):
            namenode.reset_base()
            for kind in ('first', 'rerun'):
                log('EMR loop, %d users (%d JVMs), %s run %d/%d'
                    % (count, 2 * count, kind, repeat + 1, self.options.emr_repeats))
                mark, load = audit.mark(), loadavg()
                started = time.monotonic()
                for user in users:
                    path = '%s/%s' % (BASE, user)
                    for argv in ([self.hadoop.hdfs, 'dfs', '-mkdir', '-p', path],
                                 [self.hadoop.hdfs, 'dfs', '-chmod', '777', path]):
                        done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                              text=True, check=False)
                        if done.returncode != 0:
                            raise BenchError('%s: %s' % (' '.join(argv[1:]), done.stderr.strip()[-500:]))
                wall = time.monotonic() - started
                ops, by_cmd = audit.count(mark)
                case['runs'][kind].append(dict(wall=round(wall, 3), module=None, requests=2 * count,
                                               nn_ops=ops, nn_ops_by_cmd=by_cmd, load=load))
            homes = namenode.homes()
            if len(homes) != count:
                raise BenchError('EMR loop left %d home directories, expected %d' % (len(homes), count))
        return case

    # JupyterHub ---------------------------------------------------------------------------------

    def seed_hub_users(self, count):
        """`count` users in the hub's database, written with JupyterHub's own ORM while it is stopped.

        POST /hub/api/users commits user by user (80 ms a user on this machine under load: a quarter
        of an hour for 10,000); one transaction takes seconds and leaves the same rows, each with the
        default `user` role the API would give it.
        """
        from jupyterhub import orm

        self.hub.stop()
        database = 'sqlite:///%s' % (self.hub.run_dir / 'jupyterhub.sqlite')
        session = orm.new_session_factory(database)()
        try:
            role = session.query(orm.Role).filter_by(name='user').one()
            have = set(name for (name,) in session.query(orm.User.name))
            for name in user_names(count):
                if name not in have:
                    user = orm.User(name=name)
                    user.roles.append(role)
                    session.add(user)
            session.commit()
        finally:
            session.close()
        self.hub.start()

    def hub_case(self, count):
        log('writing %d hub users into the hub database' % count)
        started = time.monotonic()
        self.seed_hub_users(count)
        setup = time.monotonic() - started
        counter = hub_api_counter(self.hub)
        reader = self.hub.token('readonly')
        case = dict(id='hub-list-%d' % count, approach='jupyterhub_users (list)', users=count,
                    setup_seconds=round(setup, 1), runs=dict(list=[]))
        client_module = collection_import('plugins.module_utils._jupyterhub')
        for repeat in range(self.options.repeats):
            log('jupyterhub_users listing %d users, run %d/%d' % (count, repeat + 1, self.options.repeats))
            mark, load = counter.mark(), loadavg()
            wall, result = self.ansible.run('datalake.notebooks.jupyterhub_users', dict(url=self.hub.url), {},
                                            env=dict(JUPYTERHUB_API_TOKEN=reader))
            calls, by_kind = counter.count(mark)
            hub_seconds = counter.server_seconds(mark)
            listed = len(result.get('users', []))
            if listed < count:
                raise BenchError('jupyterhub_users listed %d users, expected at least %d' % (listed, count))
            # The module reports no elapsed time: time its client's listing in this process instead.
            started = time.monotonic()
            client = client_module.HubClient(self.hub.url, reader)
            client.version()
            client.list_users()
            client.close()
            inner = time.monotonic() - started
            case['hub_version'] = result.get('hub_version')
            case['runs']['list'].append(dict(wall=round(wall, 3), module=round(inner, 3), requests=calls,
                                             requests_by_kind=by_kind, hub_seconds=hub_seconds, listed=listed,
                                             load=load))
        return case

    # The whole run ------------------------------------------------------------------------------

    def run(self):
        options = self.options
        wanted = set(options.cases)
        try:
            if wanted & HDFS_CASES:
                self.hadoop.start()
                self.results['machine']['hadoop'] = hadoop_version(self.hadoop)
            if 'hub' in wanted:
                self.hub.start()
            self.save()
            classpath = self.compile_peer() if 'java' in wanted else None
            if wanted & HDFS_CASES:
                self.warm_up()
            # Size by size, the two backends and the peer one after the other, so that the ratios
            # compare runs made minutes apart, under the same load.
            for count in options.sizes:
                for backend in ('webhdfs', 'rpc'):
                    if backend in wanted:
                        self.add_case(self.homedir_case(backend, count))
                if 'java' in wanted:
                    self.add_case(self.java_case(classpath, count))
            if 'cli' in wanted:
                self.add_case(self.homedir_case('cli', options.cli_users))
            if 'emr' in wanted:
                self.add_case(self.emr_case(options.emr_users))
            if 'hub' in wanted:
                case = self.hub_case(options.hub_users)
                self.results['machine']['jupyterhub'] = case.get('hub_version')
                self.add_case(case)
        finally:
            (self.supplement or self.results['machine'])['load_after'] = \
                ' '.join('%.2f' % value for value in os.getloadavg())
            self.save()
            if not options.keep:
                self.hub.stop()
                self.hadoop.stop()


# ---------------------------------------------------------------------------------------------
# The machine


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')


def machine():
    cpu = ''
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break
    except OSError:
        pass
    memory = ''
    try:
        kib = int(re.search(r'MemTotal:\s+(\d+)', Path('/proc/meminfo').read_text()).group(1))
        memory = '%.0f GiB' % (kib / 1024 / 1024)
    except (OSError, AttributeError):
        pass
    system = platform.platform()
    try:
        system = re.search(r'PRETTY_NAME="([^"]*)"', Path('/etc/os-release').read_text()).group(1)
    except (OSError, AttributeError):
        pass
    java = subprocess.run(['java', '-version'], capture_output=True, text=True, check=False).stderr.splitlines()
    ansible = subprocess.run([str(Path(sys.executable).parent / 'ansible'), '--version'],
                             capture_output=True, text=True, check=False).stdout.splitlines()
    return dict(cpu=cpu, cores=os.cpu_count(), memory=memory, os=system, kernel=platform.release(),
                python=platform.python_version(), java=java[0] if java else '',
                ansible=ansible[0] if ansible else '',
                load_before=' '.join('%.2f' % value for value in os.getloadavg()))


def hadoop_version(rig):
    pom = (RIGS / 'hadoop' / 'pom.xml').read_text()
    found = re.search(r'<hadoop.version>([^<]+)</hadoop.version>', pom)
    return found.group(1) if found else '?'


# ---------------------------------------------------------------------------------------------
# Summaries, table, doc, plot


def summarize(results):
    """Medians per (case, run kind), plus the ratio to the EMR loop at the same number of users."""
    rows = []
    emr = {}
    peers = {}
    for case in results['cases']:
        if case['id'].startswith('java-'):
            for kind, samples in case['runs'].items():
                peers[(case['users'], kind)] = median(sample['wall'] for sample in samples)
        if case['id'].startswith('emr-'):
            for kind, samples in case['runs'].items():
                emr[(case['users'], kind)] = median(sample['wall'] for sample in samples)
    for case in results['cases']:
        for kind, samples in case['runs'].items():
            if not samples:
                continue
            row = dict(case=case['id'], approach=case['approach'], users=case['users'], kind=kind,
                       n=len(samples), wall=median(s['wall'] for s in samples),
                       wall_min=min(s['wall'] for s in samples), wall_max=max(s['wall'] for s in samples),
                       module=median(s.get('module') for s in samples),
                       requests=median(s.get('requests') for s in samples),
                       nn_ops=median(s.get('nn_ops') for s in samples),
                       nn_pages=median(s.get('nn_pages') for s in samples),
                       load=median(s.get('load') for s in samples),
                       nn_pages_max=max((s['nn_pages'] for s in samples if s.get('nn_pages') is not None), default=None),
                       nn_ops_max=max((s.get('nn_ops') or 0) for s in samples) if 'nn_ops' in samples[0] else None)
            peer = peers.get((case['users'], kind))
            if peer and not case['id'].startswith(('java-', 'emr-')):
                # The peer's whole process (JVM start included) against the module's own time.
                row['vs_peer_module'] = peer / row['module'] if row['module'] else None
                row['vs_peer_wall'] = peer / row['wall']
            reference = emr.get((case['users'], kind))
            if reference and not case['id'].startswith('emr-'):
                row['speedup_wall'] = reference / row['wall']
                if row['module']:
                    row['speedup_module'] = reference / row['module']
            rows.append(row)
    return rows


def find_row(rows, case, kind):
    for row in rows:
        if row['case'] == case and row['kind'] == kind:
            return row
    return None


def targets(results, rows):
    """[(target, measured text, met: True/False/None)]"""
    out = []
    rerun = find_row(rows, 'webhdfs-10000', 'rerun')
    if rerun:
        out.append(('Idempotent re-run at 10,000 users: module time under %g s' % TARGETS['rerun_10k_module_s'],
                    '%.2f s' % rerun['module'], rerun['module'] < TARGETS['rerun_10k_module_s']))
        out.append(('Idempotent re-run at 10,000 users: at most %d NameNode requests' % TARGETS['rerun_10k_nn_ops'],
                    '%d WebHDFS request(s); %d NameNode operation(s) in the audit log; %s listing page(s) read '
                    '(JMX GetListingOps); worst of %d runs'
                    % (rerun['requests'], rerun['nn_ops_max'],
                       '?' if rerun['nn_pages_max'] is None else rerun['nn_pages_max'], rerun['n']),
                    max(rerun['requests'], rerun['nn_ops_max'], rerun['nn_pages_max'] or 0)
                    <= TARGETS['rerun_10k_nn_ops']))
    first = find_row(rows, 'webhdfs-10000', 'first')
    if first:
        out.append(('First run at 10,000 users: module time under %g s' % TARGETS['first_10k_module_s'],
                    '%.1f s' % first['module'], first['module'] < TARGETS['first_10k_module_s']))
    rpc_first = find_row(rows, 'rpc-10000', 'first')
    if rpc_first:
        out.append(('rpc backend, first run at 10,000 users: module time at most %g s'
                    % TARGETS['rpc_first_10k_module_s'], '%.2f s' % rpc_first['module'],
                    rpc_first['module'] <= TARGETS['rpc_first_10k_module_s']))
        if rpc_first.get('vs_peer_module'):
            out.append(('rpc backend, first run at 10,000 users: at least %g× faster than the one-JVM peer'
                        % TARGETS['rpc_first_vs_peer'],
                        '%.2f× (module time against the peer\'s whole JVM; %.2f× through `ansible`)'
                        % (rpc_first['vs_peer_module'], rpc_first['vs_peer_wall']),
                        rpc_first['vs_peer_module'] >= TARGETS['rpc_first_vs_peer']))
    rpc_rerun = find_row(rows, 'rpc-10000', 'rerun')
    if rpc_rerun:
        out.append(('rpc backend, re-run at 10,000 users: module time at most %g s' % TARGETS['rpc_rerun_10k_module_s'],
                    '%.2f s (%d call(s); %s NameNode operation(s) in the audit log, worst of %d runs)'
                    % (rpc_rerun['module'], rpc_rerun['requests'], rpc_rerun['nn_ops_max'], rpc_rerun['n']),
                    rpc_rerun['module'] <= TARGETS['rpc_rerun_10k_module_s']))
    if first and first.get('vs_peer_module'):
        out.append(('webhdfs backend, first run at 10,000 users: within %g× of the one-JVM peer'
                    % TARGETS['webhdfs_first_within_peer'],
                    'the module takes %.2f× the peer\'s time' % (1 / first['vs_peer_module']),
                    1 / first['vs_peer_module'] <= TARGETS['webhdfs_first_within_peer']))
    emr_users = [case['users'] for case in results['cases'] if case['id'].startswith('emr-')]
    for count in emr_users:
        for kind, label in (('first', 'first run'), ('rerun', 're-run')):
            row = find_row(rows, 'webhdfs-%d' % count, kind)
            if row and row.get('speedup_wall'):
                out.append(('At %d users, %s: at least %g× faster than the per-user procedure'
                            % (count, label, TARGETS['speedup_100']),
                            '%.0f× through `ansible` (%.0f× module time)'
                            % (row['speedup_wall'], row.get('speedup_module') or 0),
                            row['speedup_wall'] >= TARGETS['speedup_100']))
    for case in results['cases']:
        if case['id'].startswith('hub-list-'):
            row = find_row(rows, case['id'], 'list')
            out.append(('Listing %s hub users: under %g s' % (format_int(case['users']), TARGETS['hub_list_10k_s']),
                        '%.2f s listing (the module\'s client); %.2f s for the whole `ansible` command'
                        % (row['module'], row['wall']), row['module'] < TARGETS['hub_list_10k_s']))
    return out


def format_int(value):
    return '{:,}'.format(int(value))


def fmt(value, digits=2):
    if value is None:
        return '–'
    if digits == 0:
        return format_int(round(value))
    return '%.*f' % (digits, value)


KIND_LABEL = dict(first='first run', rerun='re-run', list='list')
HEADER = ('Approach', 'Users', 'Run', 'Runs', 'Wall, via ansible (s)', 'Module time (s)',
          'Module requests', 'NameNode ops (audit)', 'Listing pages (JMX)', 'Load', '× faster than EMR loop',
          '× faster than one-JVM peer')


def table_cells(row):
    speed = '–'
    if row.get('speedup_wall'):
        speed = '%.0f×' % row['speedup_wall']
        if row.get('speedup_module'):
            speed += ' (module: %.0f×)' % row['speedup_module']
    spread = '%s [%s–%s]' % (fmt(row['wall']), fmt(row['wall_min']), fmt(row['wall_max'])) \
        if row['n'] > 1 else fmt(row['wall'])
    if row['case'].startswith('emr-'):
        spread += ' (no Ansible)'
    if row['case'].startswith('java-'):
        spread += ' (no Ansible, JVM start included)'
    versus = '–'
    if row.get('vs_peer_module'):
        versus = 'module: %.2f× (via ansible: %.2f×)' % (row['vs_peer_module'], row['vs_peer_wall'])
    return (row['approach'], format_int(row['users']), KIND_LABEL.get(row['kind'], row['kind']), str(row['n']),
            spread, fmt(row['module']), fmt(row['requests'], 0), fmt(row['nn_ops'], 0), fmt(row['nn_pages'], 0),
            fmt(row.get('load'), 1), speed, versus)


def format_text_table(cases):
    rows = summarize(dict(cases=cases))
    lines = [' | '.join(table_cells(row)) for row in rows]
    return '\n'.join(lines)


def markdown_table(rows):
    lines = ['| ' + ' | '.join(HEADER) + ' |', '|' + '---|' * len(HEADER)]
    lines += ['| ' + ' | '.join(table_cells(row)) + ' |' for row in rows]
    return '\n'.join(lines)


def plot(results, rows, path):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(11, 5.5), dpi=110)
    series = collections.defaultdict(list)
    for row in rows:
        series[(row['case'].rsplit('-', 1)[0], row['kind'])].append((row['users'], row['wall'], row['module']))
    styles = {('webhdfs', 'first'): ('tab:blue', 'o', '-', 'hdfs_homedir (WebHDFS), first run'),
              ('webhdfs', 'rerun'): ('tab:green', 's', '-', 'hdfs_homedir (WebHDFS), re-run'),
              ('cli', 'first'): ('tab:purple', 'D', 'none', 'hdfs_homedir (hdfs dfs), first run'),
              ('cli', 'rerun'): ('tab:olive', 'd', 'none', 'hdfs_homedir (hdfs dfs), re-run'),
              ('rpc', 'first'): ('tab:brown', 'P', '-', 'hdfs_homedir (RPC), first run'),
              ('rpc', 'rerun'): ('tab:pink', 'X', '-', 'hdfs_homedir (RPC), re-run'),
              ('java', 'first'): ('tab:gray', 'h', '-', 'one-JVM peer, first run'),
              ('java', 'rerun'): ('black', 'H', '-', 'one-JVM peer, re-run'),
              ('emr', 'first'): ('tab:red', '^', 'none', 'EMR loop, first run (measured)'),
              ('emr', 'rerun'): ('tab:orange', 'v', 'none', 'EMR loop, re-run (measured)')}
    sizes = sorted(set(row['users'] for row in rows if not row['case'].startswith('hub')))
    for key, (color, marker, line, label) in styles.items():
        points = sorted(series.get(key, []))
        if not points:
            continue
        xs = [point[0] for point in points]
        axes.plot(xs, [point[1] for point in points], color=color, marker=marker, linestyle=line,
                  label=label + ' (via ansible)' if key[0] not in ('emr', 'java') else label)
        if key[0] in ('webhdfs', 'rpc'):
            axes.plot(xs, [point[2] for point in points], color=color, marker=marker, linestyle=':',
                      markerfacecolor='none', label=label + ', module time')
        if key[0] == 'emr' and sizes:
            # Two JVMs a user, one after the other: the loop's time grows linearly with users.
            per_user = points[0][1] / points[0][0]
            xs_line = [min(sizes + xs), max(sizes + xs)]
            run_name = key[1].replace('rerun', 're-run').replace('first', 'first run')
            axes.plot(xs_line, [per_user * x for x in xs_line], color=color, linestyle='--', linewidth=1,
                      label='EMR loop, %s, extrapolated (%.1f s a user)' % (run_name, per_user))
    axes.set_xscale('log')
    axes.set_yscale('log')
    axes.set_xlabel('users')
    axes.set_ylabel('seconds (median)')
    axes.set_title('HDFS home directories: hdfs_homedir vs the EMR guide loop')
    axes.grid(True, which='both', alpha=0.3)
    axes.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def render(results):
    rows = summarize(results)
    DOC.parent.mkdir(parents=True, exist_ok=True)
    plot(results, rows, PLOT)
    goals = targets(results, rows)
    machine_info = results['machine']
    options = results['options']
    findings = FINDINGS.read_text().strip() if FINDINGS.exists() else ''
    emr = next((case for case in results['cases'] if case['id'].startswith('emr-')), None)

    lines = [
        '# Benchmarks',
        '',
        'Operators run `hdfs_homedir` and `jupyterhub_users` on a schedule for thousands of notebook users,',
        'so both must stay fast as users grow. This page measures them on a real NameNode and a real',
        'JupyterHub, next to what the EMR guide has operators do instead: one `hdfs dfs -mkdir -p` and one',
        '`hdfs dfs -chmod` process per user, and next to a one-JVM peer that does the job through Hadoop\'s',
        '`FileSystem` API (`bench/HomeDirs.java`, the way Bigtop\'s init-hcfs does it).',
        '',
        '![Time against number of users, log scale](benchmarks.png)',
        '',
        'The whole role end to end (`playbooks/site.yml` at 100 to 10,000 users, `bench/run-role`) is in',
        '[benchmarks-role.md](benchmarks-role.md); the Livy gate\'s latency and throughput (`bench/run-gate`)',
        'in [benchmarks-gate.md](benchmarks-gate.md).',
        '',
        '## Results',
        '',
        'Medians of the runs (the range in brackets). Wall time is the whole `ansible localhost -m ...`',
        'command, Ansible\'s start-up included; module time is the module\'s own `elapsed` (for the hub,',
        'which reports none, the module\'s client listing the users, timed in the benchmark). *Module requests*',
        'is the module\'s `requests` counter (WebHDFS requests, RPC calls with the rpc backend, or `hdfs dfs`',
        'commands with the CLI backend; for the EMR loop, its processes; for the Java peer, its FileSystem',
        'calls, and its module time is the JVM\'s own from `main` on; for the hub, API requests counted in',
        'the hub\'s log). *NameNode ops*',
        'counts the operations in the NameNode\'s audit log during the run, independently of the module;',
        '*Listing pages* is the NameNode\'s own count of directory-listing pages read (JMX `GetListingOps`),',
        'taken around the WebHDFS re-runs. *Load* is the 1-minute load average when the runs started.',
        'The EMR column divides the EMR loop\'s time by this row\'s, both measured in the same run; the peer',
        'column divides the Java peer\'s whole process time (JVM start included) by this row\'s module time',
        '(and by its time through `ansible`), measured in the same run right after it.',
        '',
        markdown_table(rows),
        '',
        '## Targets',
        '',
        '| Target | Measured | Met |',
        '|---|---|---|',
    ]
    lines += ['| %s | %s | %s |' % (goal, measured, {True: 'yes', False: '**no**', None: '–'}[met])
              for goal, measured, met in goals]
    lines += [
        '',
        '## Reading the numbers',
        '',
        '- A re-run lists the base directory once and writes nothing. The module sends one `LISTSTATUS`;',
        '  the NameNode reads the directory in pages of `dfs.ls.limit` (1,000) entries and streams them',
        '  back in that one answer. The audit log records the request once (`listStatus`); the NameNode\'s',
        '  `GetListingOps` counter (JMX) counts every page read. So a re-run costs O(pages), not O(users),',
        '  while the EMR loop costs two processes and two to four NameNode operations a user, every time.',
        '- A first run sends two requests per new home (`MKDIRS` with the mode, `SETOWNER`) over ' + str(WORKERS),
        '  keep-alive connections. It does more than the EMR loop: each home belongs to its user with mode',
        '  `0750`, where the loop leaves them owned by `hdfs` and world-writable (`777`).',
        '- The EMR loop does not get faster on a re-run: `-mkdir -p` and `-chmod` start their JVMs anyway.',
        '- The rpc backend makes the same two calls a new home as WebHDFS (`mkdirs` with the mode,',
        '  `setOwner`), over the NameNode\'s RPC port, ' + str(WORKERS) + ' in flight on one connection. Its listing is one',
        '  `getListing` call a page of `dfs.ls.limit` entries, so the audit log shows one `listStatus` a page.',
        '- The Java peer lists once and then, per new home, calls `mkdirs`, `setPermission` (its `mkdirs`',
        '  masks the mode with the client\'s umask) and `setOwner`, ' + str(WORKERS) + ' threads sharing one FileSystem.',
    ]
    if emr:
        passes = len(emr['runs']['first'])
        lines.append(textwrap.fill(
            '- The EMR loop was measured at %s users, %s of a first run and a re-run (%d JVMs each, one'
            ' after the other); in the plot its dashed lines extend it linearly, as it grows: one pair of'
            ' processes per user. Dotted lines are the module\'s own time.'
            % (format_int(emr['users']), 'one pass' if passes == 1 else '%d passes' % passes, 2 * emr['users']),
            width=100, subsequent_indent='  '))
    lines += [
        '- The CLI backend is bounded by JVM start-ups as well: one `-ls`, one `-mkdir -p` for all new',
        '  homes, then one `-chown` per user (FsShell takes one owner per call), one per CPU at a time.',
        '- At 100 and 1,000 users the wall time is mostly Ansible\'s own start-up (module time is a',
        '  fraction of it); it is counted because that is what an operator waits for.',
        textwrap.fill('- This machine is shared: other engineers\' test suites (more Hadoop rigs, JVM builds) were'
                      ' using the CPU while the benchmark ran (load average over 1, 5 and 15 minutes: %s before,'
                      ' %s after, on %s cores). Absolute times move with that; the ratios, measured in the same'
                      ' run, are the figures to compare.'
                      % (machine_info.get('load_before', '?'), machine_info.get('load_after', '?'),
                         machine_info.get('cores', '?')), width=100, subsequent_indent='  '),
        '',
    ]
    if findings:
        lines += ['## Where the time goes', '', findings, '']
    lines += [
        '## Machine',
        '',
        '| | |',
        '|---|---|',
        '| CPU | %s, %s cores |' % (machine_info.get('cpu', '?'), machine_info.get('cores', '?')),
        '| Memory | %s |' % machine_info.get('memory', '?'),
        '| OS | %s, kernel %s |' % (machine_info.get('os', '?'), machine_info.get('kernel', '?')),
        '| Python / Ansible | %s / %s |' % (machine_info.get('python', '?'), machine_info.get('ansible', '?')),
        '| Java | %s |' % machine_info.get('java', '?'),
        '| Hadoop | %s, one NameNode and one DataNode on loopback (tests/rigs/hadoop) |'
        % machine_info.get('hadoop', '?'),
        '| JupyterHub | %s, SQLite, default page size (tests/rigs/jupyterhub) |' % machine_info.get('jupyterhub', '?'),
        '| Run | %s to %s |' % (results.get('started', '?'), results.get('finished', '?')),
        '',
        '## Reproduce',
        '',
        '```',
        results.get('command', 'bench/run'),
    ] + [supplement['command'] for supplement in results.get('supplements', [])] + [
        '```',
        '',
        '`bench/run` (as root, like the Hadoop rig) prepares the virtualenv and the collection, starts',
        'its own Hadoop rig with the NameNode audit log on and its own JupyterHub rig, runs every case,',
        'stops the rigs, and rewrites this page and the plot. `bench/run --quick` is a short smoke run;',
        '`bench/run --help` lists the options. Raw results: `bench/results/last.json`',
        '(`bench/run --render bench/results/last.json` rewrites this page from them).',
        '',
    ] + ['The rows of %s come from `%s` (%s to %s, load average %s before, %s after), run later with'
         ' `--add-to` on a copy of the first run\'s results: its cases replace those with the same id,'
         ' and the ratios between its own rows compare runs made minutes apart.'
         % (', '.join('`%s`' % case for case in supplement['cases']), supplement['command'],
            supplement.get('started', '?'), supplement.get('finished', '?'), supplement.get('load_before', '?'),
            supplement.get('load_after', '?')) for supplement in results.get('supplements', [])] + [
        textwrap.fill(
            'Settings of this run: %d run(s) of each WebHDFS case, %d of the CLI case, %d of the EMR loop, '
            '%d of the hub listing; users named `nbuser00000`, `nbuser00001`, ...; `hdfs_homedir` defaults'
            ' (mode `0750`, 16 workers, 64 calls in flight with the rpc backend), the Java peer with 16 threads.'
            ' Each first run starts from an empty'
            ' `/user`; its re-run follows it.'
            % (options.get('repeats', 0), options.get('cli_repeats', 0), options.get('emr_repeats', 0),
               options.get('repeats', 0)), width=100),
        '',
    ]
    DOC.write_text('\n'.join(lines))
    log('wrote %s and %s' % (DOC.relative_to(REPO), PLOT.relative_to(REPO)))
    return rows, goals


def print_summary(results):
    rows, goals = render(results)
    widths = [max(len(str(cell)) for cell in column) for column in zip(HEADER, *[table_cells(r) for r in rows])]
    for cells in [HEADER] + [table_cells(row) for row in rows]:
        print('  '.join(str(cell).ljust(width) for cell, width in zip(cells, widths)))
    print()
    for goal, measured, met in goals:
        print('%-4s %s: %s' % ({True: 'MET', False: 'MISS', None: '?'}[met], goal, measured))


# ---------------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(prog='bench/run', description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--quick', action='store_true',
                        help='one run each, 100 and 1,000 users, EMR loop and CLI at 20 users, 1,000 hub users')
    parser.add_argument('--repeats', type=int, help='runs of each WebHDFS and hub case (default 3)')
    parser.add_argument('--sizes', help='comma-separated user counts for WebHDFS, RPC and the Java peer '
                        '(default 100,1000,10000)')
    parser.add_argument('--cli-users', type=int, help='users for the CLI backend case (default 100)')
    parser.add_argument('--cli-repeats', type=int, help='runs of the CLI case (default: --repeats)')
    parser.add_argument('--emr-users', type=int, help='users for the EMR loop (default 100)')
    parser.add_argument('--emr-repeats', type=int,
                        help='passes of the EMR loop, each a first run and a re-run (default 1: '
                             '4 JVMs a user, minutes at 100 users)')
    parser.add_argument('--hub-users', type=int, help='hub users to list (default 10000)')
    parser.add_argument('--cases', default='webhdfs,rpc,java,cli,emr,hub',
                        help='which cases to run, comma-separated from webhdfs,rpc,java,cli,emr,hub '
                             '(rpc: the hdfs-native backend; java: the one-JVM FileSystem peer), each of '
                             'webhdfs, rpc and java at every --sizes')
    parser.add_argument('--run-root', default=os.environ.get('BENCH_RUN_ROOT', '/var/tmp/datalake-notebooks-bench'),
                        help='where the rigs run (must be reachable by the hdfs user)')
    parser.add_argument('--keep', action='store_true', help='leave the rigs running at the end')
    parser.add_argument('--no-doc', action='store_true', help='do not rewrite docs/benchmarks.md and the plot')
    parser.add_argument('--render', metavar='RESULTS_JSON', help='only rewrite the doc and plot from saved results')
    parser.add_argument('--add-to', metavar='RESULTS_JSON',
                        help='add the cases of this run to saved results, replacing those with the same id')
    options = parser.parse_args(argv)
    quick = options.quick
    options.repeats = options.repeats or (1 if quick else 3)
    options.cli_repeats = options.cli_repeats or options.repeats
    options.emr_repeats = options.emr_repeats or 1
    options.sizes = [int(size) for size in (options.sizes or ('100,1000' if quick else '100,1000,10000')).split(',')]
    options.cli_users = options.cli_users or (20 if quick else 100)
    options.emr_users = options.emr_users or (20 if quick else 100)
    options.hub_users = options.hub_users or (1000 if quick else 10000)
    options.cases = [case.strip() for case in options.cases.split(',') if case.strip()]
    unknown = set(options.cases) - {'webhdfs', 'rpc', 'java', 'cli', 'emr', 'hub'}
    if unknown:
        parser.error('unknown case(s): %s' % ', '.join(sorted(unknown)))
    # The ratio needs the module measured at the EMR loop's size.
    if 'emr' in options.cases and 'webhdfs' in options.cases and options.emr_users not in options.sizes:
        options.sizes = sorted(options.sizes + [options.emr_users])
    return options


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    # Stopped from outside (kill, or Ctrl-C even when started in the background): still stop the rigs.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if options.render:
        print_summary(json.loads(Path(options.render).read_text()))
        return 0
    if os.geteuid() != 0:
        raise SystemExit('bench/run runs as root: the Hadoop rig starts its daemons as their own users')
    Path(options.run_root).mkdir(parents=True, exist_ok=True)
    os.chmod(options.run_root, 0o755)
    bench = Bench(options)
    try:
        bench.run()
    except BenchError as error:
        log('benchmark stopped: %s' % error)
        return 1
    finally:
        if bench.results['cases'] and not options.no_doc:
            print_summary(bench.results)
    return 0


if __name__ == '__main__':
    sys.exit(main())
