"""Open the RPC backend, create a batch of homes, close it: ROUNDS times in one process.

Usage: rpc_rounds.py NAMENODE_RPC_URL BASE ROUNDS
Prints the number of each round once it is closed, so a hang shows where it stopped. The
collection is imported from ANSIBLE_COLLECTIONS_PATH, as the modules import it.
"""

import os
import sys

sys.path.insert(0, os.environ['ANSIBLE_COLLECTIONS_PATH'].split(os.pathsep)[0])

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_rpc import RpcHdfsBackend  # noqa: E402

url, base, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
for number in range(rounds):
    backend = RpcHdfsBackend(url, user='hdfs', workers=64)
    failed = backend.mkdirs(['%s/r%d/u%d' % (base, number, user) for user in range(64)], 0o750)
    backend.close()
    if failed:
        sys.exit('round %d: %s' % (number, failed))
    print(number, flush=True)
