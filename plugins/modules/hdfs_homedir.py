#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
module: hdfs_homedir
short_description: HDFS home directories for many users, created and kept right in a few requests
version_added: 0.1.0
description:
  - Makes sure each user in O(users) has a home directory O(base)/<user> in HDFS with the wanted owner,
    group and mode, or (O(state=absent)) that it is gone.
  - One listing of O(base) decides what is missing or wrong, so a run where everything is already right
    costs one NameNode request whatever the number of users. Only the directories that need it are
    then written, all writes of a kind as one batch.
  - User names are checked before HDFS is asked anything; every offending name is reported at once.
  - A user whose home path cannot be made right (a file is in the way, the NameNode refuses) does not
    stop the others; the task fails at the end and lists each failure with the NameNode's message.
  - Runs on a host that can reach the NameNode (usually the master node itself).
extends_documentation_fragment:
  - datalake.notebooks.hdfs
  - datalake.notebooks.attributes
  - datalake.notebooks.attributes.ALL
options:
  users:
    description:
      - Names of the users whose home directories to manage. Repeated names count once.
      - Names must not be empty, C(.) or C(..), nor contain C(/), C(,), C(:), whitespace or control
        characters. With O(backend=cli) they must not contain glob characters either.
      - Names that Hadoop or a command line would read as something else are refused as well, for
        both backends. These are V(*) (every user, in a proxy-user list), a name containing C(${) (a variable
        Hadoop expands), and a name starting with C(-) (an option to C(hdfs dfs)). The same rules
        apply to O(owner) and O(group).
    type: list
    elements: str
    required: true
  base:
    description:
      - The HDFS directory that holds the home directories.
      - An absolute, normalised path (no C(//), C(.) or C(..) components; a trailing C(/) is dropped),
        not under C(/.reserved), without the glob characters C(*), C(?), C([), C(]), C({), C(}) or
        C(\) (C(hdfs dfs) expands them) and without C(:). V(/) is refused with O(state=absent).
      - If it does not exist it is created with mode C(0755) (owner O(hdfs_user)) before the first home
        directory.
    type: str
    default: /user
  owner:
    description:
      - The owner of every home directory. If not given, each directory belongs to its own user.
    type: str
  group:
    description:
      - The group of every home directory.
      - If not given, the group is not managed. A new directory takes the group of O(base), as HDFS
        does, and existing directories keep theirs.
    type: str
  mode:
    description:
      - The permission of every home directory, as an octal string; quote it (V("0750")) so that
        YAML does not read it as a number. HDFS directories have rwx bits and the sticky bit only.
      - YAML reads an unquoted C(0750) as the number 488 but an unquoted C(750) as the number 750,
        and the number alone does not say which was written. A number is therefore taken as the
        mode itself only when it is a usual directory mode (each of owner, group and other C(---),
        C(--x), C(r-x) or C(rwx), none with a permission the one before lacks, sticky bit allowed)
        and its decimal digits, read as an octal mode, are not a usual directory mode too. So an
        unquoted C(0750) (488) or C(0700) (448) works, while C(750), C(755), C(1777), or C(0777)
        (511, which could be a typed C(0511)) are refused with the quoted form to write.
      - The default V("0750") lets the user write and its group read; nobody else can look in.
        The Amazon EMR bootstrap script used C(777), which lets every user write into every home.
      - Existing home directories with another mode are changed to this one.
    type: raw
    default: '0750'
  state:
    description:
      - V(present) creates the missing home directories and fixes the owner, group and mode of
        existing ones.
      - V(absent) removes the home directories of O(users). Only empty ones unless O(force=true);
        a non-empty one is reported as a failure and kept.
    type: str
    choices: [present, absent]
    default: present
  force:
    description:
      - With O(state=absent), also remove home directories that still hold files, with everything in
        them. HDFS trash is not used; the data is gone.
    type: bool
    default: false
  backend:
    description:
      - How to talk to HDFS.
      - V(webhdfs) sends REST requests to the NameNode from the managed node (C(requests) library).
        Writes go over O(workers) keep-alive connections at once.
      - V(cli) runs the node's C(hdfs dfs) (one JVM each time, a few seconds) as few times as it can,
        that is one C(-ls) of O(base), one C(-mkdir -p) for every missing directory, one C(-chmod) for
        every wrong mode. FsShell
        changes ownership to one owner per call, so creating per-user homes costs one C(-chown) JVM
        per user; prefer V(webhdfs) or V(rpc) for thousands of new users.
      - V(rpc) speaks the NameNode's own RPC protocol from the managed node through the
        C(hdfs-native) Python library (a Rust HDFS client, no JVM), O(workers) calls in flight over
        one connection. It is the fastest backend; the NameNodes are given as C(hdfs://HOST:PORT)
        in O(namenode_url) or read from the site files. With O(kerberos=true), hdfs-native's
        GSSAPI uses the ticket (from O(kerberos_keytab), or the current credential cache).
    type: str
    choices: [webhdfs, cli, rpc]
    default: webhdfs
  workers:
    description:
      - How many WebHDFS requests (or, with O(backend=rpc), RPC calls) run at once when a batch of
        writes goes out. Each WebHDFS worker keeps its own connection alive; RPC calls share one. The NameNode syncs its edit log once for concurrent writes, so
        parallel C(MKDIRS) requests cost much less time than the same requests one after another.
      - With O(backend=cli), how many C(hdfs dfs -chown) commands run at once, never more than the
        node has CPUs, since each is a JVM.
      - Default 16; 64 with O(backend=rpc), whose calls share one connection and cost the node almost
        nothing while they wait (at 10,000 new homes 64 calls in flight take two thirds of the time
        16 take, see docs/benchmarks.md).
    type: int
  safemode_timeout:
    description:
      - Seconds to wait, in all, for a NameNode in safe mode to leave it before the task fails.
        Only writes wait; a run with nothing to change never does.
    type: int
    default: 60
  hdfs_bin:
    description:
      - The C(hdfs) command for O(backend=cli), a name looked up in E(PATH) or a full path.
    type: str
    default: hdfs
notes:
  - Needs an HDFS superuser (O(hdfs_user), or the Kerberos principal) to create directories for
    other users and change their owner.
  - With O(backend=cli), C(become) runs the C(hdfs) command as another OS user (for example the one
    whose Kerberos ticket cache holds the HDFS superuser's ticket). Under simple authentication
    E(HADOOP_USER_NAME), set from O(hdfs_user), still decides who HDFS sees.
  - WebHDFS creates each directory with its mode in one C(MKDIRS) request, then sets its owner
    (and group) with C(SETOWNER). That is two requests per new home directory, and none per existing
    one that is already right. O(backend=rpc) makes the same two calls (C(mkdirs) with the mode,
    C(setOwner)), because the NameNode applies no umask to the permission a client sends.
  - With O(backend=rpc) the module sets E(HADOOP_USER_NAME) to O(hdfs_user) for itself and ignores
    an inherited E(HADOOP_PROXY_USER), so the NameNode sees the HDFS superuser.
  - RV(requests) and RV(elapsed) report the module's own cost, in WebHDFS requests, RPC calls with
    O(backend=rpc), or C(hdfs dfs) commands with O(backend=cli).
seealso:
  - name: WebHDFS REST API
    description: The operations this module uses (LISTSTATUS, MKDIRS, SETOWNER, SETPERMISSION, DELETE).
    link: https://hadoop.apache.org/docs/stable/hadoop-project-dist/hadoop-hdfs/WebHDFS.html
author:
  - datalake.notebooks maintainers (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Every notebook user has a private HDFS home directory
  datalake.notebooks.hdfs_homedir:
    users: "{{ notebook_users }}"
    group: hadoop

- name: Home directories on an HA cluster with Kerberos, the NameNodes read from hdfs-site.xml
  datalake.notebooks.hdfs_homedir:
    users: [alice, bob]
    kerberos: true
    kerberos_principal: hdfs/master.example.com@EXAMPLE.COM
    kerberos_keytab: /etc/security/keytabs/hdfs.keytab
    ca_path: /etc/pki/hadoop-ca.pem

- name: Home directories with the ticket an operator already holds
  datalake.notebooks.hdfs_homedir:
    users: [alice, bob]
    kerberos: true
  environment:
    KRB5CCNAME: /tmp/krb5cc_hdfs

- name: Home directories through the node's hdfs command, where WebHDFS is off
  datalake.notebooks.hdfs_homedir:
    users: [alice, bob]
    backend: cli
    hdfs_user: hdfs
    mode: "0700"

- name: Home directories on an HA pair over HTTPS, trusting the cluster's CA
  datalake.notebooks.hdfs_homedir:
    users: "{{ notebook_users }}"
    namenode_url:
      - https://nn1.example.com:9871
      - https://nn2.example.com:9871
    ca_path: /etc/pki/hadoop-ca.pem
  register: homes

- name: Home directories over the NameNode's RPC protocol, the NameNodes read from the site files
  datalake.notebooks.hdfs_homedir:
    users: "{{ notebook_users }}"
    backend: rpc
    hadoop_conf_dir: /etc/hadoop/conf

- name: Former users' empty home directories are gone
  datalake.notebooks.hdfs_homedir:
    users: [carol]
    state: absent
"""

RETURN = r"""
created:
  description: How many home directories the task created (in check mode, would create).
  returned: always
  type: int
  sample: 2
fixed:
  description:
    - How many existing home directories had their owner, group or mode corrected (in check mode,
      would have). Called C(fixed) because C(changed) is the task's own true/false.
  returned: always
  type: int
  sample: 1
invalid_users:
  description: The names of O(users) that are not valid user names, with the reason; the task then fails before it changes anything.
  returned: failure
  type: list
  elements: dict
  sample: [{name: "jane doe", reason: contains whitespace}]
removed:
  description: How many home directories the task removed (O(state=absent)).
  returned: always
  type: int
  sample: 0
unchanged:
  description: How many users' home directories were already as wanted.
  returned: always
  type: int
  sample: 9997
created_users:
  description: The users whose home directories were created, in the order of O(users).
  returned: always
  type: list
  elements: str
  sample: [alice, bob]
fixed_users:
  description: The users whose home directories were corrected.
  returned: always
  type: list
  elements: str
  sample: [carol]
removed_users:
  description: The users whose home directories were removed.
  returned: always
  type: list
  elements: str
  sample: []
failures:
  description:
    - One entry a user that could not be brought to the wanted state, with the operation and the
      NameNode's (or C(hdfs dfs)'s) message. The task fails when this is not empty.
  returned: always
  type: list
  elements: dict
  sample:
    - user: dave
      path: /user/dave
      op: MKDIRS
      message: "Path is not a directory: /user/dave"
      exception: FileAlreadyExistsException
base:
  description: The base directory, without a trailing C(/).
  returned: always
  type: str
  sample: /user
base_created:
  description: Whether O(base) did not exist and was created (in check mode, would be).
  returned: always
  type: bool
  sample: false
backend:
  description: The backend used.
  returned: always
  type: str
  sample: webhdfs
namenode:
  description:
    - The NameNode URL that answered last (the active one), with O(backend=webhdfs).
    - With O(backend=rpc), the file system the client opened (C(hdfs://HOST:PORT), the
      nameservice of C(fs.defaultFS), or the O(namenode_url) entries joined with C(,)); the
      client itself picks the active NameNode in it.
  returned: when O(backend=webhdfs) or O(backend=rpc)
  type: str
  sample: http://nn1.example.com:9870
requests:
  description:
    - The number of WebHDFS requests the module sent (failed connections to a standby or dead
      NameNode included), or with O(backend=cli) the number of C(hdfs dfs) commands it ran.
    - With O(backend=rpc), the number of client calls (a listing counts once; the NameNode serves
      it in pages of C(dfs.ls.limit) entries, one RPC each).
  returned: always
  type: int
  sample: 1
elapsed:
  description: Seconds the module spent, from its start to its result.
  returned: always
  type: float
  sample: 0.42
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import (
    FatalHdfsError,
    HdfsError,
    build_plan,
    execute,
    normalize_base,
    parse_mode,
    plan_diff,
    summarize_failures,
    unique,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_cli import cli_name_problem
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_select import (
    SelectError,
    default_workers,
    get_ticket,
    select_backend,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._names import (
    describe_invalid_names,
    invalid_names,
    invalid_users,
    name_problem,
)
from ansible_collections.datalake.notebooks.plugins.module_utils._option_specs import HDFS_ARGS, HDFS_REQUIRED_TOGETHER


def argument_spec():
    return dict(
        users=dict(type='list', elements='str', required=True),
        base=dict(type='str', default='/user'),
        owner=dict(type='str'),
        group=dict(type='str'),
        mode=dict(type='raw', default='0750'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        force=dict(type='bool', default=False),
        backend=dict(type='str', choices=['webhdfs', 'cli', 'rpc'], default='webhdfs'),
        workers=dict(type='int'),
        safemode_timeout=dict(type='int', default=60),
        hdfs_bin=dict(type='str', default='hdfs'),
        **HDFS_ARGS
    )


def check_inputs(module):
    """Everything that can be refused without asking HDFS: (users, base, mode)."""
    params = module.params
    users = unique(params['users'])
    problems = invalid_names(users)
    if params['backend'] == 'cli':
        problems += [(name, reason) for name, reason in
                     ((name, cli_name_problem(name)) for name in users if name_problem(name) is None)
                     if reason]
    if problems:
        module.fail_json(msg=describe_invalid_names('users', problems),
                         invalid_users=invalid_users(problems))
    for option in ('owner', 'group'):
        value = params[option]
        if value is not None and name_problem(value) is not None:
            module.fail_json(msg='Invalid %s %r: it %s.' % (option, value, name_problem(value)))
    try:
        base = normalize_base(params['base'], state=params['state'])
        mode = parse_mode(params['mode'])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if params['workers'] is None:
        params['workers'] = default_workers(params['backend'])
    if params['workers'] < 1:
        module.fail_json(msg='workers must be at least 1, got %d' % params['workers'])
    return users, base, mode


def main():
    started = time.monotonic()
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_together=HDFS_REQUIRED_TOGETHER)
    users, base, mode = check_inputs(module)

    def run(argv, environ):
        return module.run_command(argv, environ_update=environ)
    try:
        ticket = get_ticket(module.params, run, module.get_bin_path)
    except SelectError as exc:
        module.fail_json(msg=exc.message)
    try:
        manage_homes(module, users, base, mode, started, ticket, run)
    finally:
        # fail_json and exit_json leave through SystemExit: the cache goes either way.
        if ticket is not None:
            ticket.close()


def manage_homes(module, users, base, mode, started, ticket, run):
    params = module.params
    try:
        backend = select_backend(params, run, ccache=ticket.ccache if ticket else None)
    except SelectError as exc:
        module.fail_json(msg=exc.message, **({'exception': exc.exception} if exc.exception else {}))

    result = dict(changed=False, created=0, fixed=0, removed=0, unchanged=0, created_users=[],
                  fixed_users=[], removed_users=[], failures=[], base=base, base_created=False,
                  backend=backend.name)

    def finish(**extra):
        result['requests'] = backend.requests
        result['elapsed'] = round(time.monotonic() - started, 3)
        if backend.name in ('webhdfs', 'rpc'):
            result['namenode'] = backend.active_namenode
        result.update(extra)
        return result

    try:
        plan = build_plan(backend, users, base, state=params['state'], owner=params['owner'],
                          group=params['group'], mode=mode, force=params['force'])
        outcome = execute(backend, plan, check_mode=module.check_mode, identity=backend.identity)
    except HdfsError as error:
        backend.close()
        if isinstance(error, FatalHdfsError):
            module.fail_json(msg=error.message, **finish())
        module.fail_json(msg='HDFS %s' % error.describe(), **finish())
    backend.close()

    result.update(
        changed=outcome.changed,
        created=len(outcome.created), created_users=outcome.created,
        fixed=len(outcome.fixed), fixed_users=outcome.fixed,
        removed=len(outcome.removed), removed_users=outcome.removed,
        unchanged=len(outcome.unchanged),
        failures=outcome.failures,
        base_created=outcome.base_created,
    )
    if module._diff and plan.has_writes:
        before, after = plan_diff(plan)
        result['diff'] = dict(before=before, after=after,
                              before_header='%s (HDFS)' % base, after_header='%s (HDFS)' % base)
    for warning in plan.warnings:
        module.warn(warning)
    if getattr(backend, 'client_rebuilds', 0):
        module.warn('The HDFS client (hdfs-native) failed %d time(s) during the run (it panicked during a NameNode '
                    'failover, or left calls unanswered) and was rebuilt; the calls it dropped were sent again'
                    % backend.client_rebuilds)
    if outcome.failures:
        module.fail_json(msg='%d of %d home directories under %s could not be made right: %s'
                         % (len(outcome.failures), len(users), base, summarize_failures(outcome.failures)),
                         **finish())
    module.exit_json(**finish())


if __name__ == '__main__':
    main()
