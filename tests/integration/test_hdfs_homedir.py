"""datalake.notebooks.hdfs_homedir through ansible-playbook against the Hadoop rig, every backend.

What the module did is checked with what HDFS itself lists, independent of the module: WebHDFS
LISTSTATUS through the fixture's own client, `hdfs dfs -ls` for the cli backend, and the
NameNode's audit log. Every test works under a base directory of its own, so the session's single
rig serves them all.
"""

from __future__ import annotations

import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import requests

from playbook import local_play, run_playbook, task_four_ways
from rigs import free_port

MODULE = 'datalake.notebooks.hdfs_homedir'
# The WebHDFS and RPC backends need requests / hdfs-native on the managed node: the suite's own
# Python has both (tests/requirements.txt). The cli backend needs only the standard library, so it
# runs with Debian's python3 where there is one, as on a managed node.
WEBHDFS_PYTHON = sys.executable
CLI_PYTHON = '/usr/bin/python3' if os.path.exists('/usr/bin/python3') else sys.executable
BACKENDS = ('webhdfs', 'cli', 'rpc')
# The backends that talk to the NameNode from the module itself (HA, safe mode, request counts).
CLIENT_BACKENDS = ('webhdfs', 'rpc')


def backend_args(hadoop, backend):
    """The options that point the module at the rig through `backend`."""
    if backend == 'webhdfs':
        return {'namenode_url': [hadoop.env['NAMENODE_HTTP']]}
    if backend == 'rpc':
        return {'backend': 'rpc', 'namenode_url': [hadoop.env['NAMENODE_RPC']]}
    return {'backend': 'cli', 'hdfs_bin': hadoop.home + '/bin/hdfs', 'hadoop_conf_dir': hadoop.conf_dir}


def task(name, **args):
    return {'name': name, MODULE: args, 'register': 'out'}


def run(tasks, hadoop, **kwargs):
    cli = any(item.get(MODULE, {}).get('backend') == 'cli' for item in tasks)
    env = {'ANSIBLE_PYTHON_INTERPRETER': CLI_PYTHON if cli else WEBHDFS_PYTHON,
           'JAVA_HOME': hadoop.env['JAVA_HOME']}
    env.update(kwargs.pop('env', {}))
    return run_playbook(local_play(tasks), env=env, **kwargs)


def four_ways(hadoop, name, **args):
    """check, apply, check again, apply again in one playbook: the four results."""
    return task_four_ways(task(name, **args), lambda tasks: run(tasks, hadoop))


def audit_since(hadoop, start, base):
    """(cmd, src) of the NameNode's audit records after the first `start` ones, under `base`."""
    return [(record['cmd'], record['src']) for record in hadoop.audit_log()[start:]
            if record.get('src') == base or record.get('src', '').startswith(base + '/')]


def make_base(hadoop, base):
    status, body = hadoop.webhdfs('PUT', base, 'MKDIRS', permission='755')
    assert status == 200 and body == {'boolean': True}, body


def listing(hadoop, base):
    """name -> (type, owner, group, octal permission) of what WebHDFS lists under `base`."""
    status, body = hadoop.webhdfs('GET', base, 'LISTSTATUS')
    if status == 404:
        return None
    assert status == 200, body
    return dict((entry['pathSuffix'], (entry['type'], entry['owner'], entry['group'], entry['permission']))
                for entry in body['FileStatuses']['FileStatus'])


def cli_listing(hadoop, base):
    """name -> (kind letter and permission string, owner, group) from `hdfs dfs -ls`."""
    proc = hadoop.hdfs('dfs', '-ls', base, check=True)
    found = {}
    for line in proc.stdout.splitlines():
        parts = line.split(None, 7)
        if len(parts) == 8:
            found[parts[7].rsplit('/', 1)[1]] = (parts[0], parts[2], parts[3])
    return found


def put_file(hadoop, path, data=b'not a directory\n'):
    status, body = hadoop.webhdfs('PUT', path, 'CREATE', data=data, overwrite='true')
    assert status == 201, body


@pytest.mark.parametrize('backend', BACKENDS)
def test_creates_homes_with_owner_group_mode_four_ways(hadoop, backend):
    base = '/homes-create-%s' % backend
    make_base(hadoop, base)
    users = ['ann', 'ben', 'cat']
    args = dict(backend_args(hadoop, backend), users=users, base=base, group='hadoop')

    audited = len(hadoop.audit_log())
    check = run([task('check', **args)], hadoop, check=True)
    assert check.rc == 0, check.stdout + check.stderr
    assert check.task('check')['changed'] is True and check.task('check')['created_users'] == users
    # Check mode wrote nothing: the NameNode saw reads of the base only (one listing over WebHDFS
    # or RPC; `hdfs dfs -ls` also asks for the base's own status).
    operations = audit_since(hadoop, audited, base)
    if backend in CLIENT_BACKENDS:
        assert operations == [('listStatus', base)]
    assert ('listStatus', base) in operations
    assert set(cmd for cmd, _path in operations) <= {'listStatus', 'getfileinfo'}, operations
    assert listing(hadoop, base) == {}

    result = run([task('apply', **args), dict(task('check again', **args), check_mode=True),
                  task('apply again', **args)], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    written = audit_since(hadoop, audited, base)
    apply, check_again, apply_again = (result.task(name) for name in ('apply', 'check again', 'apply again'))
    if backend in CLIENT_BACKENDS:
        assert sorted(cmd for cmd, _path in written if cmd not in ('listStatus', 'getfileinfo')) == \
            ['mkdirs'] * len(users) + ['setOwner'] * len(users)
    assert apply['changed'] is True
    assert (apply['created'], apply['created_users'], apply['fixed'], apply['unchanged']) == (3, users, 0, 0)
    for second in (check_again, apply_again):
        assert second['changed'] is False
        assert (second['created'], second['fixed'], second['unchanged']) == (0, 0, 3)
    assert listing(hadoop, base) == dict((user, ('DIRECTORY', user, 'hadoop', '750')) for user in users)
    if backend in CLIENT_BACKENDS:
        # One listing decides a re-run; a first run adds MKDIRS + SETOWNER per new home, which the
        # NameNode's audit log shows too (no separate SETPERMISSION: it applies no umask).
        assert apply_again['requests'] == 1 and check_again['requests'] == 1
        assert apply['requests'] == 1 + 2 * len(users)
    else:
        assert cli_listing(hadoop, base) == dict((user, ('drwxr-x---', user, 'hadoop')) for user in users)
        # -ls, one -mkdir -p for all, one -chown per owner; a re-run is the -ls alone.
        assert apply['requests'] == 2 + len(users)
        assert apply_again['requests'] == 1


@pytest.mark.parametrize('backend', BACKENDS)
def test_existing_home_with_wrong_owner_and_mode_is_fixed(hadoop, backend):
    base = '/homes-fix-%s' % backend
    make_base(hadoop, base)
    status, body = hadoop.webhdfs('PUT', base + '/dan', 'MKDIRS', permission='777')
    assert status == 200, body
    status, body = hadoop.webhdfs('PUT', base + '/ok', 'MKDIRS', permission='700')
    assert status == 200, body
    status, body = hadoop.webhdfs('PUT', base + '/ok', 'SETOWNER', owner='ok')
    assert status == 200, body
    assert listing(hadoop, base)['dan'] == ('DIRECTORY', 'hdfs', 'supergroup', '777')

    check, apply, check_again, apply_again = four_ways(
        hadoop, 'fix', users=['dan', 'ok'], base=base, mode='0700', **backend_args(hadoop, backend))

    for first in (check, apply):
        assert first['changed'] is True
        assert (first['fixed_users'], first['created'], first['unchanged']) == (['dan'], 0, 1)
    for second in (check_again, apply_again):
        assert second['changed'] is False and second['fixed'] == 0 and second['unchanged'] == 2
    # Group not asked for: left as it was.
    assert listing(hadoop, base) == {'dan': ('DIRECTORY', 'dan', 'supergroup', '700'),
                                     'ok': ('DIRECTORY', 'ok', 'supergroup', '700')}


@pytest.mark.parametrize('backend', BACKENDS)
def test_a_file_in_the_way_fails_that_user_with_the_namenode_message(hadoop, backend):
    base = '/homes-file-%s' % backend
    make_base(hadoop, base)
    put_file(hadoop, base + '/eve')
    args = dict(backend_args(hadoop, backend), users=['eve', 'fay'], base=base)

    result = run([dict(task('homes', **args), ignore_errors=True)], hadoop)

    out = result.task('homes')
    assert out['failed'] is True
    message = {'webhdfs': 'Path is not a directory: %s/eve' % base,
               'rpc': 'Path is not a directory: %s/eve' % base,
               'cli': "`%s/eve': Is not a directory" % base}[backend]
    assert '1 of 2 home directories under %s could not be made right' % base in out['msg']
    assert message in out['msg']
    assert out['failures'] == [{'user': 'eve', 'path': base + '/eve', 'op': 'MKDIRS', 'message': message,
                                'exception': None if backend == 'cli' else 'FileAlreadyExistsException'}]
    # The other user went on; the file is untouched.
    assert out['created_users'] == ['fay']
    found = listing(hadoop, base)
    assert found['fay'] == ('DIRECTORY', 'fay', 'supergroup', '750')
    assert found['eve'][0] == 'FILE' and found['eve'][1] == 'hdfs'


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_check_mode_reports_a_file_in_the_way_without_writing(hadoop, backend):
    base = '/homes-file-check-%s' % backend
    make_base(hadoop, base)
    put_file(hadoop, base + '/gus')
    result = run([dict(task('homes', users=['gus', 'hal'], base=base, **backend_args(hadoop, backend)),
                       ignore_errors=True)], hadoop, check=True)
    out = result.task('homes')
    assert out['failed'] is True and '%s/gus exists as a file, not a directory' % base in out['msg']
    assert set(listing(hadoop, base)) == {'gus'}


def test_invalid_names_are_refused_before_any_request(hadoop):
    base = '/homes-invalid'
    make_base(hadoop, base)
    users = ['fine', '', '.', '..', 'a/b', 'tab\there', 'two words', 'nl\n']
    # A NameNode URL nobody listens on: any request would fail differently.
    dead = 'http://127.0.0.1:%d' % free_port()
    result = run([dict(task('homes', users=users, base=base, namenode_url=[dead]), ignore_errors=True)], hadoop)
    out = result.task('homes')
    assert out['failed'] is True
    assert out['msg'].startswith('Invalid user name(s) in users: ')
    for name in users[1:]:
        assert repr(name) in out['msg']
    assert [item['name'] for item in out['invalid_users']] == users[1:]
    assert 'requests' not in out
    assert listing(hadoop, base) == {}


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_diff_lists_the_homes_that_change(hadoop, backend):
    base = '/homes-diff-%s' % backend
    make_base(hadoop, base)
    status, body = hadoop.webhdfs('PUT', base + '/ivy', 'MKDIRS', permission='777')
    assert status == 200, body
    result = run([task('homes', users=['ivy', 'jon'], base=base, group='hadoop',
                       **backend_args(hadoop, backend))], hadoop, check=True, diff=True)
    assert result.rc == 0, result.stdout + result.stderr
    diff = result.task('homes')['diff']
    assert diff['before'] == '%s/jon: absent\n%s/ivy: directory owner=hdfs group=supergroup mode=0777\n' % (base, base)
    assert diff['after'] == ('%s/jon: directory owner=jon group=hadoop mode=0750\n'
                             '%s/ivy: directory owner=ivy group=hadoop mode=0750\n' % (base, base))
    assert set(listing(hadoop, base)) == {'ivy'}


@pytest.mark.parametrize('backend', BACKENDS)
def test_absent_removes_empty_homes_and_keeps_full_ones_unless_forced(hadoop, backend):
    base = '/homes-absent-%s' % backend
    make_base(hadoop, base)
    for user in ('kim', 'lea'):
        status, body = hadoop.webhdfs('PUT', '%s/%s' % (base, user), 'MKDIRS', permission='750')
        assert status == 200, body
    put_file(hadoop, base + '/lea/notebook.ipynb', b'{}')
    args = dict(backend_args(hadoop, backend), users=['kim', 'lea', 'max'], base=base, state='absent')

    result = run([dict(task('absent', **args), ignore_errors=True)], hadoop)
    out = result.task('absent')
    assert out['failed'] is True
    assert out['removed_users'] == ['kim'] and out['unchanged'] == 1
    assert [item['user'] for item in out['failures']] == ['lea']
    assert 'is not empty' in out['msg'] and 'force=true' in out['msg']
    assert set(listing(hadoop, base)) == {'lea'}

    check, apply, check_again, apply_again = four_ways(hadoop, 'forced', force=True, **args)
    assert check['changed'] is True and apply['changed'] is True and apply['removed_users'] == ['lea']
    assert check_again['changed'] is False and apply_again['changed'] is False
    assert listing(hadoop, base) == {}


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_missing_base_is_created(hadoop, backend):
    base = '/homes-new-base-%s/sub' % backend
    result = run([task('homes', users=['ned'], base=base, **backend_args(hadoop, backend))], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    assert result.task('homes')['base_created'] is True
    assert listing(hadoop, '/homes-new-base-%s' % backend)['sub'] == ('DIRECTORY', 'hdfs', 'supergroup', '755')
    assert listing(hadoop, base) == {'ned': ('DIRECTORY', 'ned', 'supergroup', '750')}


def namenode_address(hadoop, backend):
    return hadoop.env['NAMENODE_RPC'] if backend == 'rpc' else hadoop.env['NAMENODE_HTTP']


def dead_address(backend):
    return '%s://127.0.0.1:%d' % ('hdfs' if backend == 'rpc' else 'http', free_port())


def backend_only(backend):
    return {'backend': 'rpc'} if backend == 'rpc' else {}


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_namenodes_from_hdfs_site_and_a_dead_one_skipped(hadoop, backend):
    base = '/homes-ha-%s' % backend
    make_base(hadoop, base)
    live = namenode_address(hadoop, backend)
    dead = dead_address(backend)
    result = run([
        task('from hdfs-site', users=['oli'], base=base, hadoop_conf_dir=hadoop.conf_dir, **backend_only(backend)),
        task('dead first', users=['oli', 'pam'], base=base, namenode_url=[dead, live], **backend_only(backend)),
    ], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    from_site = result.task('from hdfs-site')
    assert from_site['created_users'] == ['oli']
    # The RPC client opens fs.defaultFS of core-site.xml, the rig's NameNode.
    assert from_site['namenode'] == live
    dead_first = result.task('dead first')
    assert dead_first['created_users'] == ['pam']
    if backend == 'rpc':
        # hdfs-native fails over inside one call: the module's count is its own calls.
        assert dead_first['namenode'] == dead + ',' + live
        assert dead_first['requests'] == 1 + 2
    else:
        assert dead_first['namenode'] == live
        # The dead NameNode cost one attempt; the live one was then used for every later request.
        assert dead_first['requests'] == 1 + 1 + 2
    assert set(listing(hadoop, base)) == {'oli', 'pam'}


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_only_dead_namenodes_fail_clearly(hadoop, backend):
    dead = [dead_address(backend), dead_address(backend)]
    began = time.monotonic()
    result = run([dict(task('homes', users=['quin'], base='/homes-dead', namenode_url=dead, **backend_only(backend)),
                       ignore_errors=True)], hadoop)
    out = result.task('homes')
    assert out['failed'] is True
    if backend == 'rpc':
        assert out['msg'] == ('No NameNode answered LISTSTATUS /homes-dead: %s: Connection refused (os error 111)'
                              % ','.join(dead))
        # A few failover attempts, not Hadoop's default fifteen (minutes).
        assert time.monotonic() - began < 30
        return
    assert out['msg'].startswith('No active NameNode answered LISTSTATUS /homes-dead: ')  # every one tried
    for url in dead:
        assert url + ': connection refused' in out['msg']


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_rerun_of_many_users_is_one_request(hadoop, backend):
    base = '/homes-many-%s' % backend
    make_base(hadoop, base)
    users = ['u%04d' % number for number in range(1500)]
    args = dict(users=users, base=base, **backend_args(hadoop, backend))
    audited = len(hadoop.audit_log())
    result = run([task('first', **args)], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    first = result.task('first')
    assert first['created'] == 1500 and first['requests'] == 1 + 2 * 1500
    operations = audit_since(hadoop, audited, base)
    assert sorted(set(cmd for cmd, _path in operations)) == ['listStatus', 'mkdirs', 'setOwner']
    assert len([cmd for cmd, _path in operations if cmd == 'mkdirs']) == 1500

    audited = len(hadoop.audit_log())
    result = run([task('again', **args)], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    again = result.task('again')
    assert again['changed'] is False and again['unchanged'] == 1500
    assert again['requests'] == 1
    assert again['elapsed'] < 3
    # Independently of the module's count: the NameNode only listed the base. (It reads the
    # directory in pages of dfs.ls.limit entries; over WebHDFS the audit log records the request
    # once, over RPC each page is a getListing call of its own: 2 for 1,500 entries.)
    operations = audit_since(hadoop, audited, base)
    assert operations and set(operations) == {('listStatus', base)}, operations
    assert len(operations) == (1 if backend == 'webhdfs' else 2), operations
    found = listing(hadoop, base)
    assert len(found) == 1500 and found['u0042'] == ('DIRECTORY', 'u0042', 'supergroup', '750')


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_safe_mode_is_waited_for_then_given_up_on(hadoop, backend):
    base = '/homes-safemode-%s' % backend
    make_base(hadoop, base)
    args = dict(base=base, **backend_args(hadoop, backend))
    hadoop.hdfs('dfsadmin', '-safemode', 'enter', check=True)
    try:
        # Nothing to write: a read-only run does not wait.
        quick = run([task('nothing to do', users=[], **args)], hadoop)
        assert quick.rc == 0, quick.stdout + quick.stderr

        gave_up = run([dict(task('gives up', users=['ray'], safemode_timeout=3, **args), ignore_errors=True)],
                      hadoop)
        out = gave_up.task('gives up')
        assert out['failed'] is True
        assert 'still in safe mode after waiting 3 seconds' in out['msg']
        assert 'safe mode' in out['msg'].split('Last answer: ')[1]
        assert 3 <= out['elapsed'] < 10

        # The NameNode leaves safe mode while the module waits: the run then succeeds.
        leave = threading.Timer(4, lambda: hadoop.hdfs('dfsadmin', '-safemode', 'leave', check=True))
        leave.start()
        began = time.monotonic()
        waited = run([task('waits', users=['ray'], safemode_timeout=120, **args)], hadoop)
        leave.join()
        assert waited.rc == 0, waited.stdout + waited.stderr
        assert waited.task('waits')['created_users'] == ['ray']
        assert time.monotonic() - began >= 4
    finally:
        hadoop.hdfs('dfsadmin', '-safemode', 'leave')
    assert set(listing(hadoop, base)) == {'ray'}


def tree(hadoop, root):
    """path -> (type, owner, group, permission) of `root` and everything below it, from WebHDFS."""
    status, body = hadoop.webhdfs('GET', root, 'GETFILESTATUS')
    assert status == 200, body
    found = {root: (body['FileStatus']['type'], body['FileStatus']['owner'], body['FileStatus']['group'],
                    body['FileStatus']['permission'])}
    for name, entry in (listing(hadoop, root) or {}).items():
        path = root.rstrip('/') + '/' + name
        found.update(tree(hadoop, path) if entry[0] == 'DIRECTORY' else {path: entry})
    return found


@pytest.mark.parametrize('backend', BACKENDS)
def test_a_base_that_reaches_outside_the_homes_is_refused(hadoop, backend):
    # Real homes, and directories named like a user that are no home: what a glob, a "..", an
    # inode path or "/" as base would have let state=absent, force=true remove.
    root = '/hostile-base-%s' % backend
    for path in ('/user/ann', '/user/bob', '/other/ann', '/ann'):
        status, body = hadoop.webhdfs('PUT', root + path, 'MKDIRS', permission='750')
        assert status == 200, body
    put_file(hadoop, root + '/other/ann/data.csv', b'1,2\n')
    top = '/hbzed-%s' % backend
    status, body = hadoop.webhdfs('PUT', top, 'MKDIRS', permission='750')
    assert status == 200, body
    status, body = hadoop.webhdfs('GET', root + '/other', 'GETFILESTATUS')
    inode = body['FileStatus']['fileId']
    before = tree(hadoop, root)
    assert tree(hadoop, top) == {top: ('DIRECTORY', 'hdfs', 'supergroup', '750')}

    cases = {
        'glob': (root + '/*', ['ann'], "base '%s/*' contains *, which hdfs dfs expands as a glob" % root),
        'dotdot': (root + '/user/..', ['ann'],
                   "base '%s/user/..' is not a normalised path" % root),
        'inode': ('/.reserved/.inodes/%d' % inode, ['ann'],
                  "base '/.reserved/.inodes/%d' is under /.reserved" % inode),
        'root': ('/', [top[1:]], 'base / with state=absent would remove top-level HDFS directories'),
    }
    audited = len(hadoop.audit_log())
    result = run([dict(task(name, users=users, base=base, state='absent', force=True,
                            **backend_args(hadoop, backend)), ignore_errors=True)
                  for name, (base, users, _message) in cases.items()], hadoop)
    for name, (_base, _users, message) in cases.items():
        out = result.task(name)
        assert out['failed'] is True, (name, out)
        assert message in out['msg'], (name, out['msg'])
        assert 'requests' not in out
    # Nothing was asked of the NameNode, and nothing changed.
    assert [record for record in hadoop.audit_log()[audited:]
            if record['src'].startswith((root, top, '/.reserved'))] == []
    assert tree(hadoop, root) == before
    assert tree(hadoop, top) == {top: ('DIRECTORY', 'hdfs', 'supergroup', '750')}


INT_MODE_PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: decimal
      datalake.notebooks.hdfs_homedir: {{users: [mia], base: {base}, mode: 750, namenode_url: [{url}]}}
      ignore_errors: true
    - name: both readings
      datalake.notebooks.hdfs_homedir: {{users: [mia], base: {base}, mode: 0777, namenode_url: [{url}]}}
      ignore_errors: true
    - name: octal
      datalake.notebooks.hdfs_homedir: {{users: [noa], base: {base}, mode: 0750, namenode_url: [{url}]}}
"""


def test_an_unquoted_decimal_mode_is_refused_and_an_unquoted_octal_one_taken(hadoop, tmp_path):
    base = '/homes-int-mode'
    make_base(hadoop, base)
    playbook = tmp_path / 'playbook.yml'
    playbook.write_text(INT_MODE_PLAYBOOK.format(base=base, url=hadoop.env['NAMENODE_HTTP']))
    result = run_playbook(str(playbook), env={'ANSIBLE_PYTHON_INTERPRETER': WEBHDFS_PYTHON})
    assert result.rc == 0, result.stdout + result.stderr
    decimal = result.task('decimal')
    assert decimal['failed'] is True
    assert decimal['msg'] == ("mode 750 is a number: YAML reads an unquoted 750 as the decimal 750 (octal 1356), "
                              "not as the octal mode 0750; quote it: mode: '0750'")
    both = result.task('both readings')
    assert both['failed'] is True and "quote the mode you mean: mode: '0777' or mode: '0511'" in both['msg']
    assert result.task('octal')['created_users'] == ['noa']
    assert listing(hadoop, base) == {'noa': ('DIRECTORY', 'noa', 'supergroup', '750')}


STANDBY_HDFS_SITE = """<?xml version="1.0"?>
<configuration>
  <property><name>dfs.nameservices</name><value>standbytest</value></property>
  <property><name>dfs.ha.namenodes.standbytest</name><value>nn1,nn2</value></property>
  <property><name>dfs.ha.namenode.id</name><value>nn1</value></property>
  <property><name>dfs.namenode.rpc-address.standbytest.nn1</name><value>127.0.0.1:{rpc1}</value></property>
  <property><name>dfs.namenode.rpc-address.standbytest.nn2</name><value>127.0.0.1:{rpc2}</value></property>
  <property><name>dfs.namenode.http-address.standbytest.nn1</name><value>127.0.0.1:{http1}</value></property>
  <property><name>dfs.namenode.http-address.standbytest.nn2</name><value>127.0.0.1:{http2}</value></property>
  <property><name>dfs.namenode.name.dir</name><value>file://{run_dir}/name</value></property>
  <property><name>dfs.namenode.shared.edits.dir</name><value>file://{run_dir}/shared</value></property>
  <property><name>dfs.ha.automatic-failover.enabled</name><value>false</value></property>
</configuration>
"""


Standby = collections.namedtuple('Standby', 'http rpc')


@pytest.fixture(scope='module')
def standby_namenode(hadoop):
    """The web and RPC URLs of a real NameNode in standby state.

    One NameNode of an HA pair, with no failover controller and no `haadmin -transitionToActive`,
    stays standby and answers every WebHDFS call with a StandbyException, as a standby of a real
    cluster does. The rig's own NameNode is not HA, so this one runs beside it from the same
    HADOOP_HOME (a JVM of about 300 MB, a few seconds to start).
    """
    run_dir = tempfile.mkdtemp(prefix='standby-nn-', dir='/tmp')
    conf = os.path.join(run_dir, 'conf')
    os.makedirs(conf)
    ports = dict(rpc1=free_port(), rpc2=free_port(), http1=free_port(), http2=free_port())
    with open(os.path.join(conf, 'hdfs-site.xml'), 'w') as handle:
        handle.write(STANDBY_HDFS_SITE.format(run_dir=run_dir, **ports))
    with open(os.path.join(conf, 'core-site.xml'), 'w') as handle:
        handle.write('<?xml version="1.0"?>\n<configuration>\n'
                     '  <property><name>fs.defaultFS</name><value>hdfs://standbytest</value></property>\n'
                     '  <property><name>hadoop.tmp.dir</name><value>%s/tmp</value></property>\n'
                     '</configuration>\n' % run_dir)
    shutil.copy(os.path.join(hadoop.conf_dir, 'log4j.properties'), conf)
    env = hadoop.client_env()
    env.update(HADOOP_CONF_DIR=conf, HADOOP_LOG_DIR=os.path.join(run_dir, 'logs'))
    hdfs = os.path.join(hadoop.home, 'bin', 'hdfs')
    subprocess.run([hdfs, 'namenode', '-format', '-nonInteractive', '-force'], env=env, check=True,
                   capture_output=True, timeout=120)
    with open(os.path.join(run_dir, 'namenode.out'), 'w') as out:
        proc = subprocess.Popen([hdfs, 'namenode'], env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = 'http://127.0.0.1:%d' % ports['http1']
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                answer = requests.get(url + '/webhdfs/v1/?op=LISTSTATUS&user.name=hdfs', timeout=5)
                if 'StandbyException' in answer.text:
                    break
            except requests.RequestException:
                pass  # not listening yet, or busy starting
            if proc.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(run_dir, 'namenode.out'), errors='replace') as handle:
                    pytest.fail('the standby NameNode did not come up:\n' + handle.read()[-5000:])
            time.sleep(1)
        yield Standby(url, 'hdfs://127.0.0.1:%d' % ports['rpc1'])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_a_standby_namenode_first_is_skipped(hadoop, standby_namenode, backend):
    base = '/homes-standby-%s' % backend
    make_base(hadoop, base)
    active = namenode_address(hadoop, backend)
    standby = getattr(standby_namenode, 'rpc' if backend == 'rpc' else 'http')
    result = run([task('standby first', users=['sam', 'tia'], base=base, group='hadoop',
                       namenode_url=[standby, active], **backend_only(backend))], hadoop)
    assert result.rc == 0, result.stdout + result.stderr
    out = result.task('standby first')
    assert out['created_users'] == ['sam', 'tia']
    if backend == 'rpc':
        assert out['namenode'] == standby + ',' + active and out['requests'] == 1 + 2 * 2
    else:
        assert out['namenode'] == active
        # The standby cost one answer; every later request went straight to the active NameNode.
        assert out['requests'] == 1 + 1 + 2 * 2
    assert listing(hadoop, base) == {'sam': ('DIRECTORY', 'sam', 'hadoop', '750'),
                                     'tia': ('DIRECTORY', 'tia', 'hadoop', '750')}


@pytest.mark.parametrize('backend', CLIENT_BACKENDS)
def test_only_a_standby_namenode_fails_clearly(hadoop, standby_namenode, backend):
    standby = getattr(standby_namenode, 'rpc' if backend == 'rpc' else 'http')
    result = run([dict(task('standby only', users=['uma'], base='/homes-standby-only', namenode_url=[standby],
                            **backend_only(backend)), ignore_errors=True)], hadoop)
    out = result.task('standby only')
    assert out['failed'] is True
    assert out['msg'] == 'No active NameNode answered LISTSTATUS /homes-standby-only: %s: standby' % standby


def test_rpc_backend_is_opened_and_closed_many_times_in_one_process(hadoop):
    """Closing the backend right after a batch once froze the module for good, and exiting aborted
    it: hdfs-native's asyncio client has threads that wake coroutines under the GIL. Over that
    client this hung within 12 rounds every time it was tried; kept alive instead, 2 processes in 15
    aborted at exit (SIGABRT). The backend now uses the blocking client, whose threads never take
    the GIL."""
    rounds = 150
    script = os.path.join(os.path.dirname(__file__), 'files', 'rpc_rounds.py')
    base = '/homes-rpc-rounds'
    make_base(hadoop, base)
    proc = subprocess.Popen([sys.executable, script, hadoop.env['NAMENODE_RPC'], base, str(rounds)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail('the backend hung after %d of %d rounds; stderr: %s' % (len(out.split()), rounds, err[-2000:]))
    assert proc.returncode == 0, 'exit status %d after %d rounds: %s' % (proc.returncode, len(out.split()), err)
    assert out.split() == [str(number) for number in range(rounds)]
    found = listing(hadoop, base + '/r%d' % (rounds - 1))
    assert len(found) == 64 and found['u7'] == ('DIRECTORY', 'hdfs', 'supergroup', '750')


def test_rpc_refuses_what_it_cannot_do_before_any_request(hadoop):
    base = '/homes-rpc-refused'
    make_base(hadoop, base)
    live = hadoop.env['NAMENODE_RPC']
    cases = {
        'web url': ([hadoop.env['NAMENODE_HTTP']], {}, "namenode_url #1 '%s' is not a NameNode RPC address: "
                    'with backend=rpc give hdfs://HOST:PORT' % hadoop.env['NAMENODE_HTTP']),
        'password': ([live, 'hdfs://hdfs:s3cret@127.0.0.1:8020'], {},
                     'namenode_url #2 has user information (user@ or user:password@)'),
    }
    audited = len(hadoop.audit_log())
    result = run([dict(task(name, users=['vic'], base=base, backend='rpc', namenode_url=urls, **extra),
                       ignore_errors=True) for name, (urls, extra, _message) in cases.items()], hadoop)
    for name, (_urls, _extra, message) in cases.items():
        out = result.task(name)
        assert out['failed'] is True and message in out['msg'], (name, out['msg'])
        assert 'requests' not in out
    assert 's3cret' not in result.stdout + result.stderr
    assert audit_since(hadoop, audited, base) == []


def test_rpc_without_hdfs_native_names_the_library(hadoop, tmp_path):
    # An hdfs_native that cannot be imported, first on the module's path: as on a node without it.
    package = tmp_path / 'hdfs_native'
    package.mkdir()
    (package / '__init__.py').write_text('raise ImportError("No module named \'hdfs_native\'")\n')
    base = '/homes-rpc-nolib'
    result = run([dict(task('homes', users=['wes'], base=base, **backend_args(hadoop, 'rpc')),
                       environment={'PYTHONPATH': str(tmp_path)}, ignore_errors=True)], hadoop)
    out = result.task('homes')
    assert out['failed'] is True
    assert 'Failed to import the required Python library (hdfs-native)' in out['msg']
    assert listing(hadoop, base) is None


def test_rpc_fs_default_fs_that_is_not_hdfs_is_refused(hadoop, tmp_path):
    conf = tmp_path / 'conf'
    conf.mkdir()
    (conf / 'hdfs-site.xml').write_text('<configuration/>\n')
    (conf / 'core-site.xml').write_text('<configuration><property><name>fs.defaultFS</name>'
                                        '<value>file:///</value></property></configuration>\n')
    result = run([dict(task('homes', users=['xan'], base='/homes-rpc-local', backend='rpc',
                            hadoop_conf_dir=str(conf)), ignore_errors=True)], hadoop)
    out = result.task('homes')
    assert out['failed'] is True
    assert out['msg'] == ("fs.defaultFS in %s/core-site.xml is 'file:///', not an hdfs:// file system; give "
                          'namenode_url as hdfs://HOST:PORT' % conf)
