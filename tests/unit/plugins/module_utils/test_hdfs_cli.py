"""_hdfs_cli: what FsShell (`hdfs dfs` text) answers, parsed, and the names and modes it is given."""

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import FileStatus
from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_cli import (
    cli_name_problem,
    mentions_safemode,
    parse_count,
    parse_errors,
    parse_ls,
    permission_from_symbolic,
    umask_for,
)


LS = '''\
WARN util.NativeCodeLoader: Unable to load native-hadoop library for your platform... using builtin-java classes where applicable
Found 5 items
drwxr-x---   - alice supergroup          0 2026-11-23 11:00 /user/alice
drwxrwxrwt   - hdfs  hadoop              0 2026-11-23 11:00 /user/tmp
drwxr-x---+  - bob   hadoop              0 2026-11-23 11:00 hdfs://nn:8020/user/bob
-rw-r--r--   1 hdfs  supergroup          5 2026-11-23 11:00 /user/dave
drwx-----T   - carol carol               0 2026-11-23 11:00 /user/carol
'''


def test_parse_ls():
    assert parse_ls(LS) == {
        'alice': FileStatus('DIRECTORY', 'alice', 'supergroup', 0o750, None),
        'tmp': FileStatus('DIRECTORY', 'hdfs', 'hadoop', 0o1777, None),
        'bob': FileStatus('DIRECTORY', 'bob', 'hadoop', 0o750, None),
        'dave': FileStatus('FILE', 'hdfs', 'supergroup', 0o644, None),
        'carol': FileStatus('DIRECTORY', 'carol', 'carol', 0o1700, None),
    }


@pytest.mark.parametrize('text, mode', [
    ('drwxr-x---', 0o750), ('drwxrwxrwx', 0o777), ('drwxrwxrwt', 0o1777), ('drwxrwxrwT', 0o1776),
    ('d---------', 0), ('-rw-r--r--+', 0o644),
])
def test_permission_from_symbolic(text, mode):
    assert permission_from_symbolic(text) == mode


def test_parse_count():
    text = ('           1            0                  0 /user/alice\n'
            '           3            5               1024 hdfs://nn:8020/user/bob\n')
    assert parse_count(text) == {'/user/alice': 0, '/user/bob': 7}


def test_parse_errors_gives_each_path_its_message():
    stderr = ("WARN util.NativeCodeLoader: Unable to load native-hadoop library\n"
              "mkdir: `/user/dave': Is not a directory\n"
              "mkdir: `/user/x': File exists\n"
              "mkdir: Permission denied: user=alice, access=WRITE, inode=\"/user\":hdfs:supergroup:drwxr-xr-x\n")
    by_path, general = parse_errors(stderr, ['/user/dave', '/user/erin'])
    assert by_path == {'/user/dave': "`/user/dave': Is not a directory"}
    assert general == ["mkdir: `/user/x': File exists",
                       'mkdir: Permission denied: user=alice, access=WRITE, inode="/user":hdfs:supergroup:drwxr-xr-x']


def test_mentions_safemode():
    assert mentions_safemode('mkdir: Cannot create directory /user/a. Name node is in safe mode.\nThe reported blocks ...')
    assert not mentions_safemode('mkdir: Permission denied')


@pytest.mark.parametrize('mode, umask', [(0o750, '027'), (0o700, '077'), (0o777, '000'), (0o1750, '027'), (0o755, '022')])
def test_umask_for(mode, umask):
    assert umask_for(mode) == umask


@pytest.mark.parametrize('name, problem', [
    ('alice', None), ('jo.doe@EXAMPLE.COM', None),
    ('a*', 'contains *'), ('a[1]', 'contains [ ]'), ('x{y}', 'contains { }'), ('q?', 'contains ?'),
    ('a\\b', 'contains \\'), ('a:b', 'contains ":"'),
])
def test_cli_name_problem(name, problem):
    result = cli_name_problem(name)
    if problem is None:
        assert result is None
    else:
        assert result.startswith(problem)
