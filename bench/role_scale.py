"""The whole role at 100 to 10,000 notebook users: playbooks/site.yml end to end, first run and re-run.

Run it through bench/run-role, which prepares the virtualenv and the collection. Everything is on:
the hub is read (the rig's real JupyterHub, users written into its database), the proxy-user
properties are written to core-site.xml, every user gets an HDFS home on the rig's real NameNode
(WebHDFS), and every user gets a sparkmagic config.json. Homes for the sparkmagic files are
directories under a scratch base, owned by root (set_owner false): creating 10,000 OS accounts on
the benchmark machine is not the role's cost but useradd's.

For each size it reports the first run, the median of the re-runs (which must report changed=0),
Ansible's per-task time split (the profile_tasks callback), and a re-run after one more hub user, whose
diff must name that one user only. Then it measures what `hadoop.proxyuser.livy.users` with 10,000
names costs the NameNode: the refresh, and a WebHDFS call with doas= against 10 and 10,000 names.
Results go to bench/results/role.json and docs/benchmarks-role.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402  (the rigs and helpers the module benchmark already has)

REPO = bench.REPO
SITE = REPO / 'playbooks' / 'site.yml'
LIVY_TEMPLATE = REPO / 'tests' / 'unit' / 'fixtures' / 'livy.conf.template'
CORE_SITE = REPO / 'tests' / 'integration' / 'files' / 'core-site.xml'
RESULTS = bench.HERE / 'results' / 'role.json'
DOC = REPO / 'docs' / 'benchmarks-role.md'
PLOT = REPO / 'docs' / 'benchmarks-role.png'
TARGETS = dict(rerun_10k_s=30.0, first_10k_s=120.0)
TASK_LINE = re.compile(r'^(.+?) -+ ([\d.]+)s$')


def run_site(variables, workdir, diff=False):
    """(wall seconds, changed count, per-task seconds, stdout) of one ansible-playbook site.yml run."""
    vars_file = workdir / 'vars.json'
    vars_file.write_text(json.dumps(variables))
    command = [str(Path(sys.executable).parent / 'ansible-playbook'), str(SITE), '-i', 'localhost,', '-c', 'local',
               '-e', '@%s' % vars_file, '-e', 'ansible_python_interpreter=%s' % sys.executable]
    if diff:
        command.append('--diff')
    environ = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_LOCALHOST_WARNING='False',
                   ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks', PROFILE_TASKS_TASK_OUTPUT_LIMIT='all',
                   ANSIBLE_BECOME_METHOD='su', ANSIBLE_BECOME_FLAGS='-s /bin/sh')
    started = time.monotonic()
    process = subprocess.run(command, capture_output=True, text=True, env=environ, check=False)
    wall = time.monotonic() - started
    if process.returncode != 0:
        raise bench.BenchError('site.yml failed (rc %d):\n%s\n%s' % (process.returncode, process.stdout[-6000:],
                                                                     process.stderr[-2000:]))
    changed = int(re.search(r'localhost\s+: ok=\d+\s+changed=(\d+)', process.stdout).group(1))
    tasks = {}
    for line in process.stdout.splitlines()[::-1]:
        found = TASK_LINE.match(line.strip())
        if found:
            name = found.group(1).split(' : ', 1)[-1].strip()
            tasks[name] = tasks.get(name, 0.0) + float(found.group(2))
        elif tasks and line.startswith('='):
            break
    return wall, changed, tasks, process.stdout


def role_variables(hub, hadoop, conf, homes, base):
    return {
        'livy_impersonation_hosts': 'localhost',
        'livy_impersonation_livy_conf_path': str(conf / 'livy.conf'),
        'livy_impersonation_core_site_path': str(conf / 'core-site.xml'),
        'livy_impersonation_hdfs_site_path': str(conf / 'hdfs-site.xml'),
        'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
        'livy_impersonation_proxyuser_apply': 'none',
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_backup': False,
        'livy_impersonation_jupyterhub_url': hub.url,
        'livy_impersonation_jupyterhub_api_token': hub.token('readonly'),
        'livy_impersonation_hdfs_namenode_url': [hadoop.env['NAMENODE_HTTP']],
        'livy_impersonation_hdfs_home_base': base,
        'livy_impersonation_sparkmagic_config': True,
        'livy_impersonation_sparkmagic_home_base': str(homes),
        'livy_impersonation_sparkmagic_set_owner': False,
        'livy_impersonation_sparkmagic_livy_url': 'http://127.0.0.1:8998',
    }


def size_case(hub, hadoop, run_root, count, reruns):
    """First run, re-runs and a one-user re-run of site.yml with `count` hub users."""
    seeder = SimpleNamespace(hub=hub)
    bench.Bench.seed_hub_users(seeder, count)
    work = Path(tempfile.mkdtemp(prefix='role-%d-' % count, dir=run_root))
    conf, homes = work / 'conf', work / 'homes'
    conf.mkdir()
    shutil.copy(LIVY_TEMPLATE, conf / 'livy.conf')
    shutil.copy(CORE_SITE, conf / 'core-site.xml')
    for name in bench.user_names(count + 1):
        (homes / name).mkdir(parents=True)
    variables = role_variables(hub, hadoop, conf, homes, '/bench-role-%d' % count)
    bench.log('site.yml with %d hub users: first run' % count)
    first, changed, first_tasks, dummy = run_site(variables, work)
    again = []
    for index in range(reruns):
        bench.log('site.yml with %d hub users: re-run %d' % (count, index + 1))
        wall, rerun_changed, rerun_tasks, dummy = run_site(variables, work)
        if rerun_changed:
            raise bench.BenchError('the re-run at %d users reported changed=%d' % (count, rerun_changed))
        again.append(wall)
    # One more user: the diff must name that one user, not all of them.
    newcomer = bench.user_names(count + 1)[-1]
    bench.Bench.seed_hub_users(seeder, count + 1)
    # The hub restarts on a new port after its database is written.
    variables = role_variables(hub, hadoop, conf, homes, '/bench-role-%d' % count)
    bench.log('site.yml with %d hub users: re-run after %s joined (--diff)' % (count, newcomer))
    dummy, one_changed, dummy2, output = run_site(variables, work, diff=True)
    named = sorted(set(re.findall(r'nbuser\d{5}', ''.join(
        line for line in output.splitlines(True) if line.startswith(('+', '-')) and not line.startswith(('+++', '---'))))))
    shutil.rmtree(work, ignore_errors=True)
    return dict(users=count, first_s=round(first, 1), first_changed=changed, rerun_s=round(statistics.median(again), 1),
                reruns=len(again), first_tasks=top(first_tasks), rerun_tasks=top(rerun_tasks),
                one_more_changed=one_changed, one_more_named=named if len(named) < 20 else '%d names' % len(named),
                newcomer=newcomer, load=bench.loadavg())


def top(tasks, count=6):
    return [[name, round(seconds, 2)] for name, seconds in sorted(tasks.items(), key=lambda item: -item[1])[:count]]


def proxyuser_cost(hadoop, samples):
    """The NameNode's cost of hadoop.proxyuser.livy.users with 10 and with 10,000 names."""
    core_site = Path(hadoop.env['HADOOP_CONF_DIR']) / 'core-site.xml'
    original = core_site.read_text()
    http = hadoop.env['NAMENODE_HTTP'].rstrip('/')
    session = requests.Session()
    rows = []
    try:
        for count in (10, 10000):
            names = bench.user_names(count)
            entry = ('<property><name>hadoop.proxyuser.livy.users</name><value>%s</value></property>'
                     '<property><name>hadoop.proxyuser.livy.hosts</name><value>*</value></property>' % ','.join(names))
            core_site.write_text(original.replace('</configuration>', entry + '\n</configuration>'))
            started = time.monotonic()
            subprocess.run([hadoop.hdfs, 'dfsadmin', '-refreshSuperUserGroupsConfiguration'], env=hadoop.client_env(),
                           check=True, capture_output=True)
            refresh = time.monotonic() - started
            timings = []
            for index in range(samples):
                # The same ten users in both cases: each new proxied user costs the NameNode a group
                # lookup of its own (a shell `id` by default), which is not what is measured here.
                doas = names[index % 10]
                started = time.monotonic()
                answer = session.get(http + '/webhdfs/v1/', params={'op': 'GETFILESTATUS', 'user.name': 'livy',
                                                                    'doas': doas}, timeout=30)
                timings.append(time.monotonic() - started)
                if answer.status_code != 200:
                    raise bench.BenchError('doas=%s refused with %d names: %s' % (doas, count, answer.text[:300]))
            timings.sort()
            rows.append(dict(names=count, refresh_s=round(refresh, 2), core_site_bytes=len(core_site.read_bytes()),
                             doas_p50_ms=round(1000 * timings[len(timings) // 2], 2),
                             doas_p99_ms=round(1000 * timings[int(len(timings) * 0.99) - 1], 2)))
    finally:
        core_site.write_text(original)
        subprocess.run([hadoop.hdfs, 'dfsadmin', '-refreshSuperUserGroupsConfiguration'], env=hadoop.client_env(),
                       check=False, capture_output=True)
    return rows


def plot(results):
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib import pyplot

    sizes = [case['users'] for case in results['sizes']]
    figure, axes = pyplot.subplots(figsize=(7, 4))
    axes.plot(sizes, [case['first_s'] for case in results['sizes']], marker='o', label='first run')
    axes.plot(sizes, [case['rerun_s'] for case in results['sizes']], marker='o', label='re-run (median)')
    for name, value in (('first-run target', TARGETS['first_10k_s']), ('re-run target', TARGETS['rerun_10k_s'])):
        axes.axhline(value, linestyle=':', color='grey')
        axes.annotate(name, (sizes[0], value), textcoords='offset points', xytext=(0, 3), fontsize=8, color='grey')
    axes.set_xscale('log')
    axes.set_xlabel('notebook users')
    axes.set_ylabel('seconds, ansible-playbook site.yml')
    axes.set_title('The whole role (hub, proxy users, HDFS homes, sparkmagic configs)')
    axes.legend()
    figure.tight_layout()
    figure.savefig(PLOT, dpi=100)


def render(results):
    plot(results)
    lines = ['# The whole role at scale', '',
             'Measured with `bench/run-role` (%s); `playbooks/site.yml` end to end on this machine (%s), with the hub,'
             ' proxy users, HDFS homes (WebHDFS) and sparkmagic configs all on, against the test rigs\' real'
             ' JupyterHub and NameNode.' % (results['command'], results['machine']), '',
             '| users | first run | re-run (median of %d) | changed on re-run | after one more hub user |' % results['reruns'],
             '|---|---|---|---|---|']
    for case in results['sizes']:
        lines.append('| {users:,} | {first_s} s | {rerun_s} s | 0 | changed={one_more_changed}, diff names {named} |'.format(
            named=', '.join(case['one_more_named']) if isinstance(case['one_more_named'], list) else case['one_more_named'],
            **case))
    lines += ['', 'Targets: re-run at 10,000 users at most %(rerun_10k_s)s s, first run at most %(first_10k_s)s s.'
              % TARGETS, '', '## Where the time goes (profile_tasks)', '']
    for case in results['sizes']:
        lines.append('- %s users, first run: %s' % (format(case['users'], ','), ', '.join(
            '%s %s s' % (name, seconds) for name, seconds in case['first_tasks'])))
        lines.append('- %s users, re-run: %s' % (format(case['users'], ','), ', '.join(
            '%s %s s' % (name, seconds) for name, seconds in case['rerun_tasks'])))
    lines += ['', '## `hadoop.proxyuser.livy.users` with 10,000 names', '',
              '| names | core-site.xml | `dfsadmin -refreshSuperUserGroupsConfiguration` (JVM included) |'
              ' WebHDFS call with doas=, p50 | p99 |', '|---|---|---|---|---|']
    for row in results['proxyuser']:
        lines.append('| {names:,} | {core_site_bytes:,} bytes | {refresh_s} s | {doas_p50_ms} ms | {doas_p99_ms} ms |'
                     .format(**row))
    small, large = results['proxyuser'][0], results['proxyuser'][-1]
    lines += ['', 'A list of {names:,} names makes core-site.xml {core_site_bytes:,} bytes; the refresh took {refresh_s} s'
              .format(**large) + ' (against %s s for %d names, a JVM start either way), and an impersonated WebHDFS'
              ' call %s ms at the median (against %s ms), the same ten proxied users in both cases: Hadoop keeps the'
              ' list in a hash set. What does cost is each proxied user the NameNode has not seen yet, whose'
              ' groups it looks up (a shell `id` by default, cached afterwards). A list of names stays the default at that size;'
              ' `livy_impersonation_proxyuser_groups` names a group instead where the cluster already has one for'
              ' its notebook users.' % (small['refresh_s'], small['names'], large['doas_p50_ms'], small['doas_p50_ms']),
              '', 'The sparkmagic homes are root-owned scratch directories (`set_owner: false`): making 10,000 OS'
              ' accounts on the benchmark machine would measure useradd, not the role.',
              '', '![site.yml time by user count](benchmarks-role.png)', '']
    DOC.write_text('\n'.join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(prog='bench/run-role', description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('--sizes', default='100,1000,10000', help='hub user counts (default 100,1000,10000)')
    parser.add_argument('--reruns', type=int, default=3, help='re-runs per size (default 3)')
    parser.add_argument('--samples', type=int, default=500, help='doas calls per proxy-user size (default 500)')
    parser.add_argument('--run-root', default='/var/tmp/datalake-notebooks-bench-role')
    parser.add_argument('--render', metavar='RESULTS_JSON', help='only rewrite the doc and plot from saved results')
    parser.add_argument('--proxyuser-only', action='store_true',
                        help='measure only the proxy-user cost, into the sizes already in bench/results/role.json')
    options = parser.parse_args(argv)
    if options.render:
        render(json.loads(Path(options.render).read_text()))
        return
    run_root = Path(options.run_root)
    shutil.rmtree(run_root, ignore_errors=True)
    run_root.mkdir(parents=True)
    os.chmod(run_root, 0o755)
    hadoop, hub = bench.HadoopRig(run_root / 'hadoop'), bench.HubRig(run_root / 'hub')
    about = bench.machine()
    earlier = json.loads(RESULTS.read_text()) if options.proxyuser_only else None
    results = earlier or dict(
        command=' '.join(['bench/run-role'] + sys.argv[1:]), reruns=options.reruns, sizes=[],
        machine='%(cores)d cores, %(memory)s, %(os)s, load %(load_before)s before the run' % about)
    try:
        hadoop.start()
        if not options.proxyuser_only:
            hub.start()
        for count in [] if options.proxyuser_only else sorted(int(size) for size in options.sizes.split(',')):
            results['sizes'].append(size_case(hub, hadoop, run_root, count, options.reruns))
            print(json.dumps(results['sizes'][-1]), flush=True)
        results['proxyuser'] = proxyuser_cost(hadoop, options.samples)
        print(json.dumps(results['proxyuser']), flush=True)
    finally:
        hub.stop()
        hadoop.stop()
    RESULTS.write_text(json.dumps(results, indent=1) + '\n')
    render(results)
    print('wrote %s and %s' % (RESULTS, DOC))


if __name__ == '__main__':
    main()
