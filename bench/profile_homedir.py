"""Run hdfs_homedir's WebHDFS code in this process, for a profiler to look at.

    py-spy record --format raw -o stacks.txt -- \\
        .venv/bin/python bench/profile_homedir.py http://127.0.0.1:PORT 10000 [--base /profile]
    .venv/bin/python bench/profile_homedir.py --summarize stacks.txt

Creates USERS homes under BASE (a first run), runs again (a re-run), prints both times and request
counts, then deletes BASE. Needs the collection on PYTHONPATH, as bench/run sets it up. The module
itself runs inside AnsiballZ, where a profiler is harder to attach; this is the same plan and
backend code as the module runs it (mode 0750, owner = each user), with 8 workers.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time

import requests


def run(url, count, base):
    from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import build_plan, execute
    from ansible_collections.datalake.notebooks.plugins.module_utils._webhdfs import WebHdfsBackend

    users = ['nbuser%05d' % index for index in range(count)]
    for kind in ('first run', 're-run'):
        backend = WebHdfsBackend([url], user='hdfs', workers=8)
        started = time.monotonic()
        plan = build_plan(backend, users, base, state='present', owner=None, group=None, mode=0o750, force=False)
        planned = time.monotonic() - started
        outcome = execute(backend, plan, check_mode=False, identity=backend.identity)
        backend.close()
        print('%s: %.2f s (plan %.2f s), %d requests, %d created, %d unchanged'
              % (kind, time.monotonic() - started, planned, backend.requests, len(outcome.created),
                 len(outcome.unchanged)), flush=True)
    requests.delete(url + '/webhdfs/v1' + base, params={'op': 'DELETE', 'recursive': 'true', 'user.name': 'hdfs'},
                    timeout=300)


def summarize(path, top=25):
    """Own time and total time per function from py-spy's raw (collapsed) stacks."""
    own = collections.Counter()
    total = collections.Counter()
    samples = 0
    for line in open(path):
        stack, dummy, count = line.rstrip('\n').rpartition(' ')
        count = int(count)
        frames = stack.split(';')
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    print('%d samples (all threads)' % samples)
    print('\nown time:')
    for frame, count in own.most_common(top):
        print('%6.1f%%  %s' % (100.0 * count / samples, frame))
    print('\ntotal time:')
    for frame, count in total.most_common(top):
        print('%6.1f%%  %s' % (100.0 * count / samples, frame))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n', maxsplit=1)[0])
    parser.add_argument('namenode_url', nargs='?')
    parser.add_argument('users', nargs='?', type=int, default=10000)
    parser.add_argument('--base', default='/profile')
    parser.add_argument('--summarize', metavar='RAW_STACKS')
    options = parser.parse_args()
    if options.summarize:
        summarize(options.summarize)
    elif options.namenode_url:
        run(options.namenode_url.rstrip('/'), options.users, options.base)
    else:
        parser.error('give a NameNode URL, or --summarize')
    return 0


if __name__ == '__main__':
    sys.exit(main())
