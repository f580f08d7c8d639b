"""The secure rig itself: a real KDC, and an HDFS that believes tickets only."""

from __future__ import annotations

import os

import gssapi
import requests
from requests_gssapi import HTTPSPNEGOAuth


def spnego(kerberos, env):
    """requests auth from the ticket cache of `env` (from kerberos.ticket)."""
    assert os.environ['KRB5_CONFIG'] == kerberos.krb5_conf
    store = {'ccache': env['KRB5CCNAME']}
    return HTTPSPNEGOAuth(creds=gssapi.Credentials(usage='initiate', store=store))


def test_the_rig_started_in_time(kerberos):
    # Figures for the README: the KDC (realm, principals, keytabs) and the secure HDFS.
    print('KDC %.1f s, secure HDFS %.1f s' % (kerberos.kdc_seconds, kerberos.hadoop.start_seconds))
    assert kerberos.kdc_seconds < 60
    assert kerberos.hadoop.start_seconds < 180


def test_webhdfs_takes_a_ticket_and_refuses_a_user_name(kerberos):
    url = kerberos.hadoop.webhdfs_url + '/tmp'
    ca = kerberos.hadoop.env['CA_PEM']
    with kerberos.ticket('shirley') as env:
        answer = requests.get(url, params={'op': 'GETFILESTATUS'}, auth=spnego(kerberos, env), verify=ca, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.json()['FileStatus']['permission'] == '1777'
    # Simple authentication's user.name proves nothing here.
    refused = requests.get(url, params={'op': 'GETFILESTATUS', 'user.name': 'hdfs'}, verify=ca, timeout=30)
    assert refused.status_code == 401
    records = [record for record in kerberos.hadoop.audit_log() if record['src'] == '/tmp']
    assert records and records[-1]['ugi'] == 'shirley'
    assert records[-1]['cmd'] == 'getfileinfo'


def test_a_file_goes_through_the_datanode_over_sasl(kerberos, tmp_path):
    local = tmp_path / 'in.txt'
    local.write_text('written over SASL data transfer\n')
    with kerberos.ticket('shirley') as env:
        kerberos.hdfs('dfs', '-put', '-f', str(local), '/tmp/secure-roundtrip.txt', env=env, check=True)
        read = kerberos.hdfs('dfs', '-cat', '/tmp/secure-roundtrip.txt', env=env, check=True)
        listing = kerberos.hdfs('dfs', '-ls', '/tmp/secure-roundtrip.txt', env=env, check=True)
    assert read.stdout == 'written over SASL data transfer\n'
    assert ' shirley ' in listing.stdout
    hdfs_site = open(os.path.join(kerberos.hadoop.conf_dir, 'hdfs-site.xml')).read()
    assert '<name>dfs.data.transfer.protection</name><value>authentication</value>' in hdfs_site


def test_no_ticket_no_hdfs(kerberos, tmp_path):
    env = kerberos.krb_env(str(tmp_path / 'empty-cache'))
    proc = kerberos.hdfs('dfs', '-ls', '/', env=env, timeout=180)
    assert proc.returncode != 0
    assert 'Client cannot authenticate via:[TOKEN, KERBEROS]' in proc.stderr, proc.stderr
