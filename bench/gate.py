"""Benchmark of the Livy gate: what it adds to a notebook's polls, and what it keeps of Livy's throughput.

Run it through bench/run-gate, which prepares the virtualenv and the collection. It starts the
Hadoop rig (HDFS only), the Livy rig (Spark local) and the JupyterHub rig under BENCH_RUN_ROOT,
makes a real Livy session object and batch object for a hub user, starts the gate in front of
Livy, and measures in one run, against Livy direct:

* latency of a statement poll (GET /sessions/{id}/statements/{n}) and of a batch poll
  (GET /batches/{id}), one keep-alive client, warm auth cache, requests alternated in blocks so
  both paths see the same machine load; p50 and p99 of each, and what the gate adds;
* requests per second of statement polls at 50 concurrent kept-alive clients: paced as sparkmagic
  polls (Python clients), and at saturation twice, with wrk (C, from Debian's package, installed when
  missing) and with Python clients; each as interleaved runs (direct, gate, gate, direct, ...), with
  the CPU time Livy, the gate and the load generator spent per request, and the machine's load.

Every loop is bounded by a count or a duration. Results go to bench/results/gate.json and
docs/benchmarks-gate.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
# The rigs are started, stopped and read as the integration fixtures do.
sys.path.insert(0, str(REPO / 'tests' / 'integration'))
import rigs  # noqa: E402  pylint: disable=wrong-import-position
from rigs import free_port  # noqa: E402  pylint: disable=wrong-import-position
GATE_PY = REPO / 'roles' / 'livy_impersonation' / 'files' / 'livy_gate.py'
RESULTS = HERE / 'results' / 'gate.json'
DOC = REPO / 'docs' / 'benchmarks-gate.md'
TARGETS = {'p50_added_ms': 5.0, 'throughput_ratio': 0.80}
USER = 'benchuser'


def log(message):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), message), file=sys.stderr, flush=True)


def run(cmd, check=True, **kwargs):
    proc = subprocess.run([str(part) for part in cmd], capture_output=True, text=True, check=False, **kwargs)
    if check and proc.returncode != 0:
        raise SystemExit('%s exited %d\n%s\n%s' % (' '.join(map(str, cmd)), proc.returncode, proc.stdout[-3000:],
                                                   proc.stderr[-5000:]))
    return proc


def call(host, port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None,
                     headers=dict({'Content-Type': 'application/json'}, **(headers or {})))
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b'null')
    finally:
        conn.close()


def hub_call(hub, method, path, token, body=None):
    parts = hub['JUPYTERHUB_URL'].split('//', 1)[1].split(':')
    return call(parts[0], int(parts[1]), method, '/hub/api' + path, {'Authorization': 'token ' + token}, body)


class Rigs:
    """Hadoop (HDFS only), Livy (local Spark) and a hub under one run root; stop() stops them all."""

    def __init__(self, root):
        self.root = Path(root)
        self.started = []

    def start(self):
        if self.root.exists():
            shutil.rmtree(self.root)
        self.root.mkdir(parents=True)
        os.chmod(self.root, 0o755)
        hadoop_env = self.root / 'hadoop' / 'rig.env'
        log('starting the Hadoop rig (HDFS only)')
        self._start('hadoop', self.root / 'hadoop', '--no-yarn')
        log('starting the Livy rig')
        livy = self._start('livy', self.root / 'livy', '--hadoop-env', hadoop_env, timeout=1800)
        # Real session objects need Livy to find "REPL jars" (see tests/integration/fixtures_livy_gate.py),
        # and impersonation on, or Livy drops their proxyUser and the gate serves them to nobody.
        conf = Path(livy['LIVY_CONF_DIR']) / 'livy.conf'
        stand_in = sorted((Path(livy['LIVY_HOME']) / 'jars').glob('livy-api-*.jar'))[0]
        conf.write_text(conf.read_text() + 'livy.impersonation.enabled = true\nlivy.repl.jars = file://%s\n' % stand_in)
        livy = self._start('livy', self.root / 'livy', '--hadoop-env', hadoop_env, '--restart', timeout=600)
        log('starting the JupyterHub rig')
        hub = self._start('jupyterhub', self.root / 'hub', timeout=600)
        return livy, hub

    def _start(self, name, run_dir, *options, timeout=900):
        if (name, run_dir) not in self.started:
            self.started.append((name, run_dir))
        try:
            return rigs.start(name, run_dir, *options, timeout=timeout).env
        except rigs.RigError as exc:
            raise SystemExit(str(exc)) from exc

    def stop(self):
        for name, run_dir in reversed(self.started):
            rigs.stop(name, run_dir)


def percentile(values, q):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(targets, path, auth, rounds, block):
    """{name: [ms]} of `rounds` x `block` GETs of `path`, alternating targets block by block."""
    samples = {name: [] for name in targets}
    conns = {name: http.client.HTTPConnection(host, port, timeout=60) for name, (host, port) in targets.items()}
    headers = {'Authorization': auth}
    for dummy in range(rounds):
        for name, conn in conns.items():
            for dummy in range(block):
                began = time.perf_counter()
                conn.request('GET', path, headers=headers)
                response = conn.getresponse()
                response.read()
                samples[name].append((time.perf_counter() - began) * 1000)
    for conn in conns.values():
        conn.close()
    return samples


# sparkmagic's pauses between two polls of a running statement (its default retry policy,
# seconds_to_sleep(1), (2), ...); a statement is taken to finish after the third poll.
SPARKMAGIC_POLL_PAUSES = (0.2, 0.5, 1.0)


def _client_worker(host, port, path, auth, threads, seconds, out, paced=False):
    import threading
    counts = [0] * threads
    errors = [0] * threads
    times = [[] for dummy in range(threads)]
    stop_at = time.monotonic() + seconds

    def loop(index):
        conn = http.client.HTTPConnection(host, port, timeout=60)
        step = 0
        while time.monotonic() < stop_at:
            try:
                began = time.perf_counter()
                conn.request('GET', path, headers={'Authorization': auth})
                response = conn.getresponse()
                response.read()
                times[index].append((time.perf_counter() - began) * 1000)
                counts[index] += 1
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=60)
            if paced:
                time.sleep(SPARKMAGIC_POLL_PAUSES[step % len(SPARKMAGIC_POLL_PAUSES)])
                step += 1
        conn.close()

    workers = [threading.Thread(target=loop, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=seconds + 120)
    out.put((sum(counts), sum(errors), [value for values in times for value in values]))


def throughput(host, port, path, auth, clients, processes, seconds, paced=False, livy_pid=None, gate_pids=()):
    """Requests per second of `clients` keep-alive clients over `seconds`, and their latency.

    Unpaced, each client sends its next request as soon as it has the answer (saturation); paced,
    each pauses between polls as sparkmagic does.
    """
    cpu_before = (cpu_seconds([livy_pid]) if livy_pid else 0, cpu_seconds(gate_pids), os.times())
    out = multiprocessing.Queue()
    per = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    procs = [multiprocessing.Process(target=_client_worker, args=(host, port, path, auth, n, seconds, out, paced))
             for n in per if n]
    began = time.monotonic()
    for proc in procs:
        proc.start()
    results = [out.get(timeout=seconds + 180) for dummy in procs]
    for proc in procs:
        proc.join(timeout=60)
    elapsed = time.monotonic() - began
    done = sum(count for count, dummy, dummy2 in results)
    times = [value for dummy, dummy2, values in results for value in values]
    now = os.times()
    cpu = {'livy': (cpu_seconds([livy_pid]) if livy_pid else 0) - cpu_before[0],
           'gate': cpu_seconds(gate_pids) - cpu_before[1],
           'clients': (now.children_user - cpu_before[2].children_user
                       + now.children_system - cpu_before[2].children_system)}
    return {'requests': done, 'errors': sum(e for dummy, e, dummy2 in results), 'seconds': round(elapsed, 2),
            'rps': round(done / elapsed, 1),
            'p50_ms': round(percentile(times, 0.5), 3) if times else None,
            'p99_ms': round(percentile(times, 0.99), 3) if times else None,
            'cpu_us_per_request': {name: round(value * 1e6 / max(done, 1), 1) for name, value in cpu.items()}}


def ensure_wrk():
    """wrk, the C load generator, from Debian's package (the benchmark runs as root, as its rigs do)."""
    if shutil.which('wrk'):
        return
    log('installing wrk (Debian package)')
    if subprocess.run(['apt-get', 'install', '-y', 'wrk'], capture_output=True, check=False).returncode != 0:
        run(['apt-get', 'update'], timeout=600)
        run(['apt-get', 'install', '-y', 'wrk'], timeout=600)


def wrk_version():
    proc = run(['wrk', '-v'], check=False)
    return (proc.stdout + proc.stderr).strip().split('\n')[0].split(' Copyright')[0]


def cpu_seconds(pids):
    """User + system CPU seconds used so far by these processes (all their threads)."""
    tick = os.sysconf('SC_CLK_TCK')
    total = 0
    for pid in pids:
        try:
            fields = Path('/proc/%d/stat' % pid).read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def wrk(host, port, path, auth, clients, seconds, livy_pid, gate_pids):
    """One wrk run (C, two threads, `clients` kept-alive connections, no pauses): requests/s, latency,
    and the CPU seconds Livy, the gate and wrk itself used, per request."""
    before = {'livy': cpu_seconds([livy_pid]), 'gate': cpu_seconds(gate_pids)}
    began_children = os.times()
    proc = run(['wrk', '-t2', '-c%d' % clients, '-d%ds' % seconds, '--latency', '-H', 'Authorization: ' + auth,
                'http://%s:%d%s' % (host, port, path)], timeout=seconds + 60)
    ended_children = os.times()
    out = proc.stdout
    done = re.search(r'(\d+) requests in ([\d.]+)(m?s)', out)
    requests_done, elapsed = int(done.group(1)), float(done.group(2)) / (1000 if done.group(3) == 'ms' else 1)
    socket_errors = re.search(r'Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)', out)
    errors = sum(int(n) for n in socket_errors.groups()) if socket_errors else 0
    non_2xx = re.search(r'Non-2xx or 3xx responses: (\d+)', out)

    def ms(label):
        match = re.search(r'^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$' % label, out, re.M)
        value = float(match.group(1))
        return round(value / 1000 if match.group(2) == 'us' else value * 1000 if match.group(2) == 's' else value, 3)

    wrk_cpu = (ended_children.children_user - began_children.children_user
               + ended_children.children_system - began_children.children_system)
    cpu = {'livy': cpu_seconds([livy_pid]) - before['livy'], 'gate': cpu_seconds(gate_pids) - before['gate'],
           'wrk': wrk_cpu}
    return {'requests': requests_done, 'seconds': elapsed, 'errors': errors, 'rps': round(requests_done / elapsed, 1),
            'non_2xx': int(non_2xx.group(1)) if non_2xx else 0,
            'p50_ms': ms('50'), 'p99_ms': ms('99'),
            'cpu_us_per_request': {name: round(value * 1e6 / max(requests_done, 1), 1) for name, value in cpu.items()}}


def interleaved(measure, targets, rounds):
    """{name: [run, ...]} of `rounds` runs of measure(name, host, port) per target, in the order
    ABBA ABBA ..., so both paths meet the machine's load alike."""
    runs = {name: [] for name in targets}
    names = list(targets)
    for index in range(rounds):
        for name in (names if index % 2 == 0 else names[::-1]):
            host, port = targets[name]
            runs[name].append(measure(name, host, port))
    return runs


def combined(runs):
    """One figure from several runs: requests over seconds, the median of their percentiles."""
    total = sum(r['requests'] for r in runs)
    seconds = sum(r['seconds'] for r in runs)
    out = {'requests': total, 'seconds': round(seconds, 2), 'errors': sum(r['errors'] for r in runs),
           'rps': round(total / seconds, 1),
           'p50_ms': round(statistics.median(r['p50_ms'] for r in runs), 3),
           'p99_ms': round(statistics.median(r['p99_ms'] for r in runs), 3), 'runs': runs}
    if 'cpu_us_per_request' in runs[0]:
        out['cpu_us_per_request'] = {name: round(sum(r['cpu_us_per_request'][name] * r['requests'] for r in runs) / total, 1)
                                     for name in runs[0]['cpu_us_per_request']}
    return out


def cpu_bound_ratio(by_path):
    """Throughput through the gate over direct when CPU is the only limit: the inverse ratio of the
    CPU that one request costs on each path, all processes together."""
    direct, gated = by_path['direct']['cpu_us_per_request'], by_path['gate']['cpu_us_per_request']
    return sum(direct.values()) / sum(gated.values())


def load_average():
    one, five, fifteen = os.getloadavg()
    return {'uptime': run(['uptime']).stdout.strip(), 'load_1': one, 'load_5': five, 'load_15': fifteen}


def summary(samples):
    return {name: {'p50_ms': round(percentile(values, 0.50), 3), 'p99_ms': round(percentile(values, 0.99), 3),
                   'mean_ms': round(statistics.fmean(values), 3), 'n': len(values)}
            for name, values in samples.items()}


def render(results):
    lat = results['latency']
    rows = []
    for case, label in (('statement_poll', 'statement poll `GET /sessions/{id}/statements/{n}`'),
                        ('batch_poll', 'batch poll `GET /batches/{id}`')):
        if case not in lat:
            continue
        direct, gated = lat[case]['direct'], lat[case]['gate']
        rows.append('| %s | %.2f / %.2f | %.2f / %.2f | **%.2f** / %.2f |' % (
            label, direct['p50_ms'], direct['p99_ms'], gated['p50_ms'], gated['p99_ms'],
            gated['p50_ms'] - direct['p50_ms'], gated['p99_ms'] - direct['p99_ms']))
    tp = results['throughput']
    verdict = results['verdict']
    tp_rows, cpu_rows = [], []
    for kind, label in (('paced', '%d notebooks paced as sparkmagic polls (0.2, 0.5, 1 s between polls), Python clients'
                         % tp['clients']),
                        ('saturation', '%d connections without pauses (saturation), wrk' % tp['clients']),
                        ('saturation_python', '%d clients without pauses (saturation), Python clients' % tp['clients'])):
        run_ = tp[kind]
        tp_rows.append('| %s | %.0f, %.2f / %.2f | %.0f, %.2f / %.2f | **%.0f %%** (%.0f to %.0f %%) |' % (
            label, run_['direct']['rps'], run_['direct']['p50_ms'], run_['direct']['p99_ms'],
            run_['gate']['rps'], run_['gate']['p50_ms'], run_['gate']['p99_ms'], run_['ratio'] * 100,
            run_['ratio_min'] * 100, run_['ratio_max'] * 100))
        if kind != 'paced':
            direct_cpu, gate_cpu = run_['direct']['cpu_us_per_request'], run_['gate']['cpu_us_per_request']
            generator = 'wrk' if 'wrk' in direct_cpu else 'clients'
            cpu_rows.append('| %s | %.0f | %.0f | %.0f | %.0f | **%.0f** | %.0f %% |' % (
                'wrk' if generator == 'wrk' else 'Python clients', direct_cpu['livy'], direct_cpu[generator],
                gate_cpu['livy'], gate_cpu[generator], gate_cpu['gate'], cpu_bound_ratio(run_) * 100))
    load = results['load']
    met_tp = '%s paced; %s at saturation (wrk); %s at saturation (Python clients)' % tuple(
        'yes' if verdict[key] else 'no' for key in ('throughput_met', 'saturation_met', 'saturation_python_met'))
    text = '''# The Livy gate: latency and throughput

Measured by `bench/run-gate` on %(when)s (%(machine)s).
The machine was shared with other work; its load (`uptime`) before the throughput runs:
`%(load_before)s`, after them: `%(load_after)s`. Absolute figures move with that load, so every
comparison below is a ratio of the two paths measured in the same run, interleaved.

Livy 0.7.1 on loopback with a real session object and a real batch object of a hub user; the gate
(%(workers)d worker processes, Debian's Python) in front of it with a warm auth cache; JupyterHub 6.1.1.
The polled statement belongs to a session without an interpreter (the rig has no REPL jars), so
Livy answers every poll, on both paths, from memory with its 400 "Session isn't active"; the gate
does all its work for it (credentials, owner, forwarding, audit line).
Latency: one kept-alive client, both paths alternating in blocks of %(block)d requests.

| request | Livy direct p50 / p99 (ms) | through the gate p50 / p99 (ms) | added p50 / p99 (ms) |
|---|---|---|---|
%(rows)s

Throughput of statement polls at %(clients)d concurrent kept-alive clients: %(rounds)d runs of %(seconds)d s per path
and load, in the order direct, gate, gate, direct, direct, ... so that both paths meet the same load;
requests/s is all requests over all runs of a path, p50 / p99 the median of the runs' percentiles,
the ratio range that of the runs taken pairwise. Saturation is measured twice: with `wrk` (C, two
threads), which spends little CPU itself, and with Python clients (%(processes)d processes of threads on
`http.client`), as a notebook host would send.

| clients | Livy direct (requests/s, p50 / p99 ms) | through the gate (requests/s, p50 / p99 ms) | gate / direct |
|---|---|---|---|
%(tp_rows)s

CPU per request at saturation (microseconds of user + system time, from `/proc`). The last column is
the ratio these costs give when Livy, the load generator and the gate have the machine's %(cores)d cores
to themselves and use them fully, (Livy + generator, direct) / (Livy + generator + gate, gated):
on a machine shared with other work the gate's two processes also win CPU time from that work,
which the measured ratio above includes and this one does not.

| load generator | direct: Livy | direct: generator | gated: Livy | gated: generator | gated: the gate | gate / direct, CPU-bound |
|---|---|---|---|---|---|---|
%(cpu_rows)s

| target | measured | met |
|---|---|---|
| p50 added to a statement poll ≤ %(t_p50).0f ms (warm cache) | %(p50_added).2f ms | %(met_p50)s |
| throughput at %(clients)d notebook clients ≥ %(t_ratio).0f %% of direct | %(measured_tp)s | %(met_tp)s |

The gate serves each worker's connections from one event loop (no thread per client), keeps its
connections to Livy alive, parses request and response heads itself and writes the audit lines of
a loop turn in one write. Where its time goes at saturation (py-spy and `/proc`, earlier runs on
this machine): before, with a thread per client, the gate spent about 370 µs of CPU per poll under
wrk (and kept 53 %% of direct throughput against Python clients), most of it in `http.server`'s and
`http.client`'s header parsing (the `email` package, about half), in `logging` (a sixth) and in
threads taking turns; now the gate's decisions take a fifth of it and the rest is the event loop
and the kernel's reads and writes, one of each towards the client and towards Livy per request: a
second HTTP hop on the same two cores.
With wrk, which costs almost nothing itself, that hop is %(gate_us).0f µs of CPU against Livy's
%(livy_us).0f µs per poll, and the gate keeps %(s_ratio).0f %% of direct throughput; with Python clients,
whose own cost per request is of Livy's order, %(sp_ratio).0f %%. Where the CPU is the only limit,
keeping 80 %% against wrk would need the gate to cost at most a quarter of what Livy and wrk cost
direct, about %(budget_us).0f µs a poll. Raw numbers, every run: `bench/results/gate.json`.
''' % {
        'when': results['when'], 'machine': results['machine'], 'block': results['block'], 'rows': '\n'.join(rows),
        'load_before': load['before']['uptime'], 'load_after': load['after']['uptime'], 'cores': os.cpu_count(),
        'workers': tp['workers'], 'clients': tp['clients'], 'processes': tp['processes'], 'seconds': tp['seconds'],
        'rounds': tp['rounds'], 'gate_us': tp['saturation']['gate']['cpu_us_per_request']['gate'],
        'livy_us': tp['saturation']['direct']['cpu_us_per_request']['livy'],
        's_ratio': tp['saturation']['ratio'] * 100, 'sp_ratio': tp['saturation_python']['ratio'] * 100,
        'budget_us': 0.25 * sum(tp['saturation']['direct']['cpu_us_per_request'].values()),
        'measured_tp': '%.0f %% paced; %.0f %% at saturation (wrk); %.0f %% at saturation (Python clients)' % (
            tp['paced']['ratio'] * 100, tp['saturation']['ratio'] * 100, tp['saturation_python']['ratio'] * 100),
        't_p50': TARGETS['p50_added_ms'], 't_ratio': TARGETS['throughput_ratio'] * 100,
        'p50_added': verdict['p50_added_ms'], 'met_p50': 'yes' if verdict['p50_met'] else 'no',
        'tp_rows': '\n'.join(tp_rows), 'cpu_rows': '\n'.join(cpu_rows), 'met_tp': met_tp}
    DOC.write_text(text)


def main(argv=None):
    parser = argparse.ArgumentParser(prog='bench/run-gate', description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--rounds', type=int, default=20, help='alternation rounds per latency case (default 20)')
    parser.add_argument('--block', type=int, default=50, help='requests per block (default 50)')
    parser.add_argument('--clients', type=int, default=50, help='concurrent clients (default 50)')
    parser.add_argument('--processes', type=int, default=5, help='client processes (default 5)')
    parser.add_argument('--seconds', type=int, default=5, help='seconds per throughput run (default 5)')
    parser.add_argument('--rounds-throughput', type=int, default=4,
                        help='throughput runs per path and load, interleaved ABBA (default 4)')
    parser.add_argument('--python', default='/usr/bin/python3', help='Python that runs the gate, as its unit does')
    parser.add_argument('--workers', type=int, default=2, help="the gate's worker processes (default 2)")
    parser.add_argument('--run-root', default=os.environ.get('BENCH_RUN_ROOT', '/var/tmp/datalake-notebooks-bench-gate'))
    parser.add_argument('--no-doc', action='store_true', help='do not rewrite docs/benchmarks-gate.md')
    parser.add_argument('--render', metavar='FILE', help='only rewrite docs/benchmarks-gate.md from a saved results file')
    args = parser.parse_args(argv)
    if args.render:
        render(json.loads(Path(args.render).read_text()))
        return

    ensure_wrk()
    rigs = Rigs(args.run_root)
    gate = None
    try:
        livy, hub = rigs.start()
        livy_host, livy_port = '127.0.0.1', int(livy['LIVY_URL'].rsplit(':', 1)[1])
        superuser = Path(hub['JUPYTERHUB_SUPERUSER_TOKEN_FILE']).read_text().strip()
        hub_call(hub, 'POST', '/users', superuser, {'usernames': [USER]})
        status, made = hub_call(hub, 'POST', '/users/%s/tokens' % USER, superuser, {'expires_in': 3600, 'scopes': []})
        assert status == 201, made
        auth = 'Basic ' + base64.b64encode(('%s:%s' % (USER, made['token'])).encode()).decode()

        gate_port = free_port()
        config = Path(args.run_root) / 'gate.json'
        config.write_text(json.dumps({'listen_host': '127.0.0.1', 'listen_port': gate_port, 'livy_url': livy['LIVY_URL'],
                                      'hub_url': hub['JUPYTERHUB_URL'], 'cache_seconds': 300,
                                      'workers': args.workers}))
        gate_log = open(Path(args.run_root) / 'gate.log', 'w')
        gate = subprocess.Popen([args.python, str(GATE_PY), '--config', str(config)], stdout=gate_log,
                                stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', gate_port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        # The objects polled: a real Livy session and batch, created through the gate, so they are the user's.
        status, session = call('127.0.0.1', gate_port, 'POST', '/sessions', {'Authorization': auth}, {'kind': 'pyspark'})
        assert status == 201, session
        status, batch = call('127.0.0.1', gate_port, 'POST', '/batches', {'Authorization': auth},
                             {'file': 'file://%s/absent.py' % livy['LIVY_JOBS_DIR'].rstrip('/')})
        assert status in (201, 400), batch
        # Livy holds statement requests to a starting session; the interpreter-less session dies in seconds.
        deadline = time.monotonic() + 120
        while session['state'] not in ('dead', 'error', 'idle', 'killed') and time.monotonic() < deadline:
            time.sleep(1)
            session = call('127.0.0.1', gate_port, 'GET', '/sessions/%d' % session['id'], {'Authorization': auth})[1]
        log('session %d is %s' % (session['id'], session['state']))
        statement = '/sessions/%d/statements/0' % session['id']
        targets = {'direct': (livy_host, livy_port), 'gate': ('127.0.0.1', gate_port)}
        log('warming up')
        latency(targets, statement, auth, 1, 100)
        log('latency: statement poll')
        statement_samples = latency(targets, statement, auth, args.rounds, args.block)
        cases = {'statement_poll': summary(statement_samples)}
        if status == 201:
            log('latency: batch poll')
            cases['batch_poll'] = summary(latency(targets, '/batches/%d' % batch['id'], auth, args.rounds, args.block))
        livy_pid = int(livy['LIVY_PID'])
        gate_pids = [gate.pid] + [int(pid) for pid in
                                  Path('/proc/%d/task/%d/children' % (gate.pid, gate.pid)).read_text().split()]
        load_before = load_average()
        log('load before the throughput runs: %s' % load_before['uptime'])
        runs = {}
        log('throughput (paced, Python clients): %d clients, %d rounds of %d s per path'
            % (args.clients, args.rounds_throughput, args.seconds))
        runs['paced'] = interleaved(lambda name, host, port: throughput(
            host, port, statement, auth, args.clients, args.processes, args.seconds, True, livy_pid,
            gate_pids if name == 'gate' else ()), targets, args.rounds_throughput)
        log('throughput (saturation, wrk): %d connections, %d rounds of %d s per path'
            % (args.clients, args.rounds_throughput, args.seconds))
        runs['saturation'] = interleaved(lambda name, host, port: wrk(
            host, port, statement, auth, args.clients, args.seconds, livy_pid, gate_pids if name == 'gate' else ()),
            targets, args.rounds_throughput)
        log('throughput (saturation, Python clients): %d clients, %d rounds of %d s per path'
            % (args.clients, args.rounds_throughput, args.seconds))
        runs['saturation_python'] = interleaved(lambda name, host, port: throughput(
            host, port, statement, auth, args.clients, args.processes, args.seconds, False, livy_pid,
            gate_pids if name == 'gate' else ()), targets, args.rounds_throughput)
        load_after = load_average()
        for kind, by_path in runs.items():
            runs[kind] = {name: combined(path_runs) for name, path_runs in by_path.items()}
            runs[kind]['ratio'] = round(runs[kind]['gate']['rps'] / runs[kind]['direct']['rps'], 3)
            runs[kind]['ratio_cpu_bound'] = round(cpu_bound_ratio(runs[kind]), 3)
            # The spread of the round-by-round ratios (round i of the gate against round i direct).
            ratios = [g['rps'] / d['rps'] for g, d in zip(runs[kind]['gate']['runs'], runs[kind]['direct']['runs'])]
            runs[kind]['ratio_min'], runs[kind]['ratio_max'] = round(min(ratios), 3), round(max(ratios), 3)
        p50_added = cases['statement_poll']['gate']['p50_ms'] - cases['statement_poll']['direct']['p50_ms']
        results = {
            'when': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime()),
            'machine': '%s, %d cores, clients on Python %s, the gate on %s, %s' % (
                platform.machine(), os.cpu_count(), platform.python_version(),
                run([args.python, '-V']).stdout.strip(), wrk_version()),
            'load': {'before': load_before, 'after': load_after},
            'block': args.block, 'rounds': args.rounds, 'latency': cases,
            'throughput': dict(runs, clients=args.clients, processes=args.processes, seconds=args.seconds,
                               rounds=args.rounds_throughput, workers=args.workers),
            'verdict': {'p50_added_ms': round(p50_added, 3), 'p50_met': p50_added <= TARGETS['p50_added_ms'],
                        'throughput_ratio': runs['paced']['ratio'],
                        'throughput_met': runs['paced']['ratio'] >= TARGETS['throughput_ratio'],
                        'saturation_ratio': runs['saturation']['ratio'],
                        'saturation_met': runs['saturation']['ratio'] >= TARGETS['throughput_ratio'],
                        'saturation_python_ratio': runs['saturation_python']['ratio'],
                        'saturation_python_met': runs['saturation_python']['ratio'] >= TARGETS['throughput_ratio']},
        }
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2) + '\n')
        if not args.no_doc:
            render(results)
        print(json.dumps(results['verdict']))
        print(json.dumps(cases, indent=1))
        brief = {kind: {name: {k: v for k, v in value.items() if k != 'runs'} if isinstance(value, dict) else value
                        for name, value in by_path.items()} for kind, by_path in runs.items()}
        print(json.dumps(brief, indent=1))
    finally:
        if gate is not None:
            gate.terminate()
            gate.wait(timeout=10)
        rigs.stop()


if __name__ == '__main__':
    main()
