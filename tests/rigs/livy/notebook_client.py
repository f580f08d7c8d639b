"""What a notebook user's kernel does with sparkmagic, reduced to one Spark job: runs with the
sparkmagic virtualenv's Python (SPARKMAGIC_PYTHON from `install`).

    SPARKMAGIC_CONF_DIR=/home/shirley/.sparkmagic python notebook_client.py JOB.py [ARG ...]

sparkmagic reads the user's config.json exactly as in a notebook: the Livy URL and auth from
kernel_python_credentials, the session properties (proxyUser, conf) from session_configs. The job is
sent through sparkmagic's own Livy HTTP client (headers, auth, retry policy from that config) to
Livy's batch API, because the Livy on Maven Central has no interactive interpreter (see pom.xml).
Prints one JSON object: id, state, proxyUser, appId, seconds, log (spark-submit's output).
"""

import json
import sys
import time

import sparkmagic.utils.configuration as conf
from sparkmagic.livyclientlib.endpoint import Endpoint
from sparkmagic.livyclientlib.livyreliablehttpclient import LivyReliableHttpClient
from sparkmagic.utils.constants import LANG_PYTHON, NO_AUTH

TERMINAL = ('success', 'dead', 'killed', 'error')


def main(argv):
    job, args = argv[0], argv[1:]
    credentials = conf.base64_kernel_python_credentials()
    if credentials['auth'] != NO_AUTH:
        raise SystemExit('the rig runs Livy without authentication; config.json asks for %s'
                         % credentials['auth'])
    endpoint = Endpoint(credentials['url'], None)
    properties = conf.get_session_properties(LANG_PYTHON)
    # The notebook's configured HTTP client; its batch calls are the same requests it makes for
    # sessions, on /batches.
    http = LivyReliableHttpClient.from_endpoint(endpoint)._http_client

    body = {'file': job, 'args': args, 'name': 'notebook-%s-%d' % (properties.get('proxyUser'), time.time())}
    for key in ('proxyUser', 'conf', 'driverMemory', 'executorMemory', 'numExecutors', 'queue'):
        if key in properties:
            body[key] = properties[key]
    started = time.monotonic()
    batch = http.post('/batches', [201], body).json()
    deadline = started + float(conf.livy_session_startup_timeout_seconds()) + 600
    while batch['state'] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(1)
        batch = http.get('/batches/%d' % batch['id'], [200]).json()
    seconds = round(time.monotonic() - started, 1)
    log = http.get('/batches/%d/log?from=0&size=100000' % batch['id'], [200]).json().get('log', [])
    json.dump({'id': batch['id'], 'state': batch['state'], 'proxyUser': batch.get('proxyUser'),
               'appId': batch.get('appId'), 'seconds': seconds, 'sent': body, 'log': log},
              sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main(sys.argv[1:])
