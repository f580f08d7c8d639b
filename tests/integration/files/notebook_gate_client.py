"""A notebook user's sparkmagic kernel talking to Livy through the gate, reduced to its HTTP calls.

Runs with the sparkmagic virtualenv's Python (SPARKMAGIC_PYTHON of the Livy rig):

    SPARKMAGIC_CONF_DIR=~/.sparkmagic python notebook_gate_client.py batch JOB.py [ARG ...]
    SPARKMAGIC_CONF_DIR=~/.sparkmagic python notebook_gate_client.py session [--configure JSON]

The endpoint and its auth are built from config.json exactly as sparkmagic's kernel builds them
(kernel_python_credentials -> initialize_auth -> Endpoint, so Basic_Access sends HTTP Basic with the
user name and password of that file), and every request goes through sparkmagic's own Livy HTTP
client. `--configure` does what `%%configure -f JSON` does: it overrides session_configs before the
session is requested. `batch` sends the job to Livy's batch API and polls it to the end (the Livy
on Maven Central has no interactive interpreter); `session` only asks Livy for a session and
prints Livy's answer. Prints one JSON object; a refused request gives {"refused": message}.
"""

import json
import sys
import time

import sparkmagic.utils.configuration as conf
from sparkmagic.livyclientlib.endpoint import Endpoint
from sparkmagic.livyclientlib.exceptions import HttpClientException
from sparkmagic.livyclientlib.livyreliablehttpclient import LivyReliableHttpClient
from sparkmagic.utils.constants import LANG_PYTHON
from sparkmagic.utils.utils import Namespace, initialize_auth

TERMINAL = ('success', 'dead', 'killed', 'error')


def http_client():
    """sparkmagic's kernel: credentials of config.json -> auth -> endpoint -> reliable HTTP client."""
    credentials = conf.base64_kernel_python_credentials()
    args = Namespace(auth=credentials['auth'], user=credentials['username'], password=credentials['password'],
                     url=credentials['url'])
    endpoint = Endpoint(credentials['url'], initialize_auth(args))
    return LivyReliableHttpClient.from_endpoint(endpoint)


def batch(livy, job, args):
    http = livy._http_client
    properties = conf.get_session_properties(LANG_PYTHON)
    body = {'file': job, 'args': args, 'name': 'notebook-%d' % (time.time() * 1000)}
    for key in ('proxyUser', 'conf', 'driverMemory', 'executorMemory', 'numExecutors', 'queue'):
        if key in properties:
            body[key] = properties[key]
    started = time.monotonic()
    batch = http.post('/batches', [201], body).json()
    deadline = started + float(conf.livy_session_startup_timeout_seconds()) + 600
    while batch['state'] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(1)
        batch = http.get('/batches/%d' % batch['id'], [200]).json()
    log = http.get('/batches/%d/log?from=0&size=100000' % batch['id'], [200]).json().get('log', [])
    return {'id': batch['id'], 'state': batch['state'], 'proxyUser': batch.get('proxyUser'),
            'appId': batch.get('appId'), 'seconds': round(time.monotonic() - started, 1), 'sent': body,
            'log': log}


def session(livy, configure):
    if configure is not None:
        # What %%configure -f does before it (re)creates the session.
        conf.override(conf.session_configs.__name__, json.loads(configure))
    properties = conf.get_session_properties(LANG_PYTHON)
    created = livy.post_session(properties)
    return {'id': created['id'], 'state': created['state'], 'proxyUser': created.get('proxyUser'),
            'kind': created.get('kind'), 'sent': properties}


def main(argv):
    livy = http_client()
    try:
        if argv[0] == 'batch':
            out = batch(livy, argv[1], argv[2:])
        elif argv[0] == 'session':
            out = session(livy, argv[2] if len(argv) > 2 and argv[1] == '--configure' else None)
        else:
            raise SystemExit('usage: notebook_gate_client.py batch JOB [ARG ...] | session [--configure JSON]')
    except HttpClientException as exc:
        out = {'refused': str(exc)}
    json.dump(out, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:])
