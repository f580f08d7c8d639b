"""Livy on the secure rig, after the role: SPNEGO decides who the request user is, and Livy itself
lets a user be only themselves.

Clients authenticate with their own tickets (requests-gssapi, the library sparkmagic's Kerberos
auth is built on). A batch runs as the user of the ticket, on HDFS as well (the file it writes
belongs to them, and the NameNode saw that user acting through livy).
"""

from __future__ import annotations

import os
import time
import uuid

import gssapi
import pytest
import requests
from requests_gssapi import OPTIONAL, HTTPSPNEGOAuth

TERMINAL = ('success', 'dead', 'killed', 'error')
# Writes its file from the driver: with local Spark (no YARN on the secure rig) the driver acts as
# the proxied user with Livy's ticket behind it, while executor threads get no delegation tokens
# (Spark fetches those for YARN only), so tasks could not reach a kerberized HDFS at all.
DRIVER_JOB = """\
import sys
from pyspark import SparkContext
sc = SparkContext.getOrCreate()
print("SPARK_USER=" + sc.sparkUser())
print("TASKS=%d" % sc.parallelize([1], 1).count())
path = sc._jvm.org.apache.hadoop.fs.Path(sys.argv[1])
fs = path.getFileSystem(sc._jsc.hadoopConfiguration())
out = fs.create(path)
out.write(bytearray(b"written by the driver\\n"))
out.close()
print("OWNER=" + fs.getFileStatus(path).getOwner())
sc.stop()
"""


def driver_job(livy):
    path = os.path.join(livy.run_dir, 'jobs', 'driver_writes.py')
    with open(path, 'w') as handle:
        handle.write(DRIVER_JOB)
    os.chmod(path, 0o644)
    return 'file://' + path


def auth(env):
    creds = gssapi.Credentials(usage='initiate', store={'ccache': env['KRB5CCNAME']})
    return HTTPSPNEGOAuth(creds=creds, mutual_authentication=OPTIONAL)


def test_no_ticket_is_refused_with_401(kerberos_livy):
    answer = requests.get(kerberos_livy.url + '/batches', timeout=30)
    assert answer.status_code == 401, answer.text
    # Simple authentication's user.name is no way in either.
    answer = requests.get(kerberos_livy.url + '/batches', params={'user.name': 'shirley'}, timeout=30)
    assert answer.status_code == 401


def test_shirley_asking_for_diego_is_refused_by_livy(kerberos, kerberos_livy):
    job = kerberos_livy.job('whoami')
    with kerberos.ticket('shirley') as env:
        answer = requests.post(kerberos_livy.url + '/batches', json={'file': job, 'proxyUser': 'diego'},
                               auth=auth(env), timeout=60)
    assert answer.status_code == 403, answer.text
    assert "User 'shirley' not allowed to impersonate 'Some(diego)'." in answer.text


@pytest.mark.parametrize('proxy_user', [None, 'shirley'])
def test_a_batch_with_shirleys_ticket_runs_as_shirley(kerberos, kerberos_livy, proxy_user):
    job = driver_job(kerberos_livy)
    out = '/tmp/livy-kerberos-%s' % uuid.uuid4().hex[:8]
    body = {'file': job, 'args': [out]}
    if proxy_user:
        body['proxyUser'] = proxy_user
    audit_start = len(kerberos.hadoop.audit_log())
    with kerberos.ticket('shirley') as env:
        batch = requests.post(kerberos_livy.url + '/batches', json=body, auth=auth(env), timeout=60)
        assert batch.status_code == 201, batch.text
        batch = batch.json()
        # Livy makes the request user the proxy user when none is asked for.
        assert batch['proxyUser'] == 'shirley'
        deadline = time.monotonic() + 600
        while batch['state'] not in TERMINAL and time.monotonic() < deadline:
            time.sleep(2)
            batch = requests.get('%s/batches/%d' % (kerberos_livy.url, batch['id']), auth=auth(env), timeout=60).json()
        log = requests.get('%s/batches/%d/log' % (kerberos_livy.url, batch['id']), params={'size': 100000},
                           auth=auth(env), timeout=60).json()['log']
    errors = [line for line in log if 'Exception' in line or 'Caused by' in line]
    assert batch['state'] == 'success', '\n'.join(errors[:20] + log[-40:]) + kerberos_livy.log_tail()
    assert 'SPARK_USER=shirley' in log and 'OWNER=shirley' in log and 'TASKS=1' in log, log
    with kerberos.ticket('hdfs/') as env:
        listing = kerberos.hdfs('dfs', '-ls', '-d', out, env=env, check=True).stdout
    assert ' shirley ' in listing, listing
    creates = [record for record in kerberos.hadoop.audit_log()[audit_start:]
               if record['cmd'] == 'create' and record['src'] == out]
    # The audit log's ugi is the proxied user (its line goes on "(auth:PROXY) via livy/...").
    assert creates and {record['ugi'] for record in creates} == {'shirley'}, creates
