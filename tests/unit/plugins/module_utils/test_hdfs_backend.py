"""The home-directory plan and its execution, against an in-memory backend."""

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._hdfs_backend import (
    FatalHdfsError,
    FileStatus,
    HdfsBackend,
    HdfsError,
    SafeModeError,
    build_plan,
    execute,
    format_mode,
    normalize_base,
    parse_mode,
    plan_absent,
    plan_diff,
    plan_present,
    summarize_failures,
    usual_directory_mode,
)


def directory(owner, group='supergroup', mode=0o750, children=0):
    return FileStatus('DIRECTORY', owner, group, mode, children)


def a_file(owner='hdfs'):
    return FileStatus('FILE', owner, 'supergroup', 0o644, 0)


@pytest.mark.parametrize('value, mode', [
    ('0750', 0o750), ('750', 0o750), ('0o700', 0o700), ('1777', 0o1777), ('0', 0),
    (0o750, 0o750), (488, 0o750), ('  0755 ', 0o755), ('0644', 0o644),
    # Ints YAML gives for unquoted octal literals of usual directory modes.
    (0o700, 0o700), (0o755, 0o755), (0o770, 0o770), (0o711, 0o711), (0o1777, 0o1777), (0, 0),
])
def test_parse_mode(value, mode):
    assert parse_mode(value) == mode


@pytest.mark.parametrize('value, reason', [
    ('0788', 'not an octal'), ('rwx', 'not an octal'), ('', 'not an octal'), ('4750', 'out of range'),
    (0o4750, 'out of range'), (-1, 'out of range'), (True, 'boolean'),
])
def test_parse_mode_refuses(value, reason):
    with pytest.raises(ValueError, match=reason):
        parse_mode(value)


# An unquoted 750 in YAML is the decimal int 750 (octal 1356): refused, saying what to write.
@pytest.mark.parametrize('value, message', [
    (750, "mode 750 is a number: YAML reads an unquoted 750 as the decimal 750 (octal 1356), not as the "
          "octal mode 0750; quote it: mode: '0750'"),
    (755, "quote it: mode: '0755'"), (700, "quote it: mode: '0700'"), (770, "quote it: mode: '0770'"),
    (777, "quote it: mode: '0777'"), (644, "quote it: mode: '0644'"), (1777, "quote it: mode: '1777'"),
    (12, "quote it: mode: '0012'"),
    # Both readings are usual modes: the int does not say which was meant.
    (511, "mode 511 is a number YAML gives both for an unquoted 0777 and for an unquoted 511; quote the mode "
          "you mean: mode: '0777' or mode: '0511'"),
    (1000, "mode: '1750' or mode: '1000'"),
    # Only an octal literal gives 498 (0762), which is no usual directory mode.
    (498, "mode 498 (octal 0762) is a number that is not a usual directory mode; quote the mode you mean, "
          "e.g. mode: '0762'"),
    (0o744, "mode 484 (octal 0744) is a number that is not a usual directory mode"),
])
def test_parse_mode_refuses_ambiguous_ints(value, message):
    with pytest.raises(ValueError) as error:
        parse_mode(value)
    assert message in str(error.value)


def test_usual_directory_modes():
    usual = [mode for mode in range(0o2000) if usual_directory_mode(mode)]
    assert len(usual) == 40
    assert {0o750, 0o755, 0o700, 0o711, 0o770, 0o775, 0o777, 0o1777, 0o500, 0} <= set(usual)
    assert not set(usual) & {0o644, 0o740, 0o057, 0o707, 0o4750, -1}


def test_format_mode():
    assert format_mode(0o750) == '0750'
    assert format_mode(0o1777) == '1777'


@pytest.mark.parametrize('base, clean', [('/user', '/user'), ('/user/', '/user'), ('/', '/'),
                                         ('/data/homes', '/data/homes'), ('/a b', '/a b')])
def test_normalize_base(base, clean):
    assert normalize_base(base) == clean


@pytest.mark.parametrize('base', ['user', '', None, 'hdfs://nn/user'])
def test_normalize_base_refuses_relative(base):
    with pytest.raises(ValueError, match='absolute'):
        normalize_base(base)


@pytest.mark.parametrize('base, message', [
    ('/user/*', "base '/user/*' contains *, which hdfs dfs expands as a glob"),
    ('/us?r', 'contains ?'), ('/[u]ser', 'contains [ ]'), ('/u{a,b}', 'contains { }'), ('/u\\x', 'contains \\'),
    ('/a/../b', "base '/a/../b' is not a normalised path (\"//\", \".\" or \"..\" in it); write the directory "
                "itself, such as /b"),
    ('/user/..', 'such as /'), ('/./user', 'such as /user'), ('//user', 'such as /user'),
    ('/user//x/', 'such as /user/x'),
    ('/.reserved/.inodes/16385', "base '/.reserved/.inodes/16385' is under /.reserved"),
    ('/.reserved/raw/user', 'is under /.reserved'),
    ('/a:b', 'contains ":"'), ('/a\nb', 'control character (U+000A)'),
])
def test_normalize_base_refuses(base, message):
    for state in ('present', 'absent'):
        with pytest.raises(ValueError) as error:
            normalize_base(base, state)
        assert message in str(error.value)


def test_root_base_refused_for_removal_only():
    assert normalize_base('/', 'present') == '/'
    with pytest.raises(ValueError, match='base / with state=absent would remove top-level HDFS directories'):
        normalize_base('/', 'absent')
    with pytest.raises(ValueError, match='state=absent'):
        normalize_base('//', 'absent')


def test_plan_sorts_every_user_into_one_bucket():
    listing = {
        'ok': directory('ok'),
        'wrongowner': directory('root'),
        'wrongmode': directory('wrongmode', mode=0o777),
        'afile': a_file(),
        'other': directory('other', mode=0o777),  # not asked for: ignored
    }
    plan = plan_present(['new', 'ok', 'wrongowner', 'wrongmode', 'afile', 'new'], '/user', listing)
    assert [item.user for item in plan.create] == ['new']
    assert plan.create[0].path == '/user/new'
    assert plan.create[0].owner == 'new'
    assert plan.create[0].group is None
    assert plan.unchanged == ['ok']
    fixes = dict((item.user, item) for item in plan.fix)
    assert set(fixes) == {'wrongowner', 'wrongmode'}
    assert (fixes['wrongowner'].owner, fixes['wrongowner'].group, fixes['wrongowner'].mode) == ('wrongowner', None, None)
    assert (fixes['wrongmode'].owner, fixes['wrongmode'].group, fixes['wrongmode'].mode) == (None, None, 0o750)
    assert [(item.user, item.reason) for item in plan.conflicts] == [('afile', 'exists as a file, not a directory')]
    assert plan.base_exists


def test_plan_with_fixed_owner_and_group():
    listing = {'a': directory('svc', group='hadoop'), 'b': directory('svc', group='staff'), 'c': directory('c')}
    plan = plan_present(['a', 'b', 'c', 'd'], '/home', listing, owner='svc', group='hadoop', mode=0o750)
    assert plan.unchanged == ['a']
    fixes = dict((item.user, (item.owner, item.group, item.mode)) for item in plan.fix)
    assert fixes == {'b': (None, 'hadoop', None), 'c': ('svc', 'hadoop', None)}
    assert plan.create[0] == plan.create[0]._replace(user='d', path='/home/d', owner='svc', group='hadoop', mode=0o750)


def test_group_not_managed_when_not_given():
    plan = plan_present(['a'], '/user', {'a': directory('a', group='whatever')})
    assert plan.unchanged == ['a']


def test_plan_without_base_creates_everyone():
    plan = plan_present(['a', 'b'], '/user', None)
    assert not plan.base_exists
    assert [item.user for item in plan.create] == ['a', 'b']


@pytest.mark.parametrize('status, force, bucket', [
    (None, False, 'unchanged'),
    (directory('a', children=0), False, 'remove'),
    (directory('a', children=3), False, 'conflicts'),
    (directory('a', children=3), True, 'remove'),
    (directory('a', children=None), True, 'remove'),
    (a_file(), False, 'unchanged'),
    (a_file(), True, 'unchanged'),
])
def test_plan_absent(status, force, bucket):
    listing = {'a': status} if status else {}
    plan = plan_absent(['a'], '/user', listing, force=force)
    buckets = {'unchanged': plan.unchanged, 'remove': plan.remove, 'conflicts': plan.conflicts}
    assert [len(buckets[name]) for name in sorted(buckets)] == [int(name == bucket) for name in sorted(buckets)]


def test_plan_absent_warns_about_a_file():
    plan = plan_absent(['a'], '/user', {'a': a_file()})
    assert plan.warnings == ['/user/a exists as a file, not a home directory; left alone.']


def test_plan_absent_non_empty_reason_says_what_to_do():
    plan = plan_absent(['a'], '/user', {'a': directory('a', children=2)})
    assert 'is not empty (2 entries below it); set force=true' in plan.conflicts[0].reason


def test_diff_lists_only_what_changes():
    listing = {'ok': directory('ok'), 'bad': directory('root', group='g', mode=0o777)}
    before, after = plan_diff(plan_present(['new', 'ok', 'bad'], '/user', listing))
    assert before == ('/user/new: absent\n'
                      '/user/bad: directory owner=root group=g mode=0777\n')
    assert after == ('/user/new: directory owner=new group=(inherited) mode=0750\n'
                     '/user/bad: directory owner=bad group=g mode=0750\n')


def test_summarize_failures_caps_the_message():
    failures = [{'path': '/user/u%d' % i, 'op': 'MKDIRS', 'message': 'no'} for i in range(25)]
    text = summarize_failures(failures, limit=3)
    assert text == '/user/u0 (MKDIRS): no; /user/u1 (MKDIRS): no; /user/u2 (MKDIRS): no; ... and 22 more (see "failures")'


class MemoryBackend(HdfsBackend):
    """HDFS as a dict of path -> FileStatus; records every call."""

    name = 'memory'

    def __init__(self, entries=None, identity='hdfs', refuse=None, **kwargs):
        super(MemoryBackend, self).__init__(**kwargs)
        self.entries = dict(entries or {})
        self.calls = []
        self.identity = identity
        self.refuse = refuse or {}

    def list_dir(self, path):
        self.count_request()
        self.calls.append(('list', path))
        if path not in self.entries and path != '/':
            return None
        prefix = path.rstrip('/') + '/'
        return dict((key[len(prefix):], value) for key, value in self.entries.items()
                    if key.startswith(prefix) and '/' not in key[len(prefix):])

    def count_children(self, paths):
        self.calls.append(('count', tuple(paths)))
        return dict((path, sum(1 for key in self.entries if key.startswith(path + '/'))) for path in paths)

    def _each(self, op, paths, work):
        self.calls.append((op, tuple(paths)))
        errors = {}
        for path in paths:
            self.count_request()
            if (op, path) in self.refuse:
                errors[path] = HdfsError(self.refuse[(op, path)], op=op, path=path)
                continue
            work(path)
        return errors

    def mkdirs(self, paths, mode):
        def work(path):
            if path in self.entries and self.entries[path].kind != 'DIRECTORY':
                raise AssertionError('test must refuse this one')
            self.entries.setdefault(path, directory(self.identity, mode=mode))
        return self._each('mkdirs', paths, work)

    def set_owner(self, entries):
        wanted = dict((path, (owner, group)) for path, owner, group in entries)

        def work(path):
            owner, group = wanted[path]
            self.entries[path] = self.entries[path]._replace(owner=owner, group=group or self.entries[path].group)
        return self._each('set_owner', list(wanted), work)

    def set_permission(self, paths, mode):
        def work(path):
            self.entries[path] = self.entries[path]._replace(permission=mode)
        return self._each('set_permission', paths, work)

    def delete(self, paths, recursive):
        def work(path):
            for key in [key for key in self.entries if key == path or key.startswith(path + '/')]:
                del self.entries[key]
        return self._each('delete-r' if recursive else 'delete', paths, work)


def run(backend, users, check_mode=False, **options):
    plan = build_plan(backend, users, options.pop('base', '/user'), **options)
    return plan, execute(backend, plan, check_mode=check_mode, identity=backend.identity)


def test_first_run_then_idempotent_second_run():
    backend = MemoryBackend({'/user': directory('hdfs', mode=0o755)})
    plan, outcome = run(backend, ['alice', 'bob'])
    assert outcome.created == ['alice', 'bob'] and outcome.changed and not outcome.failures
    assert backend.entries['/user/alice'] == directory('alice', group='supergroup', mode=0o750)
    # One listing, one batch of MKDIRS, one batch of SETOWNER: nothing per user besides the writes.
    assert [call[0] for call in backend.calls] == ['list', 'mkdirs', 'set_owner']

    backend.calls = []
    plan, outcome = run(backend, ['alice', 'bob'])
    assert not outcome.changed and outcome.unchanged == ['alice', 'bob']
    assert backend.calls == [('list', '/user')]


def test_check_mode_writes_nothing_and_predicts():
    backend = MemoryBackend({'/user': directory('hdfs'), '/user/bob': directory('root'),
                             '/user/dave': a_file()})
    before = dict(backend.entries)
    plan, outcome = run(backend, ['alice', 'bob', 'dave'], check_mode=True)
    assert backend.entries == before
    assert backend.calls == [('list', '/user')]
    assert (outcome.created, outcome.fixed) == (['alice'], ['bob'])
    assert outcome.failures == [{'user': 'dave', 'path': '/user/dave', 'op': 'plan', 'exception': None,
                                 'message': '/user/dave exists as a file, not a directory'}]


def test_existing_directory_owner_and_mode_are_fixed():
    backend = MemoryBackend({'/user': directory('hdfs'), '/user/bob': directory('root', mode=0o777)})
    plan, outcome = run(backend, ['bob'], group='hadoop')
    assert outcome.fixed == ['bob']
    assert backend.entries['/user/bob'] == directory('bob', group='hadoop', mode=0o750)


def test_a_file_in_the_way_fails_that_user_only_with_the_namenode_message():
    message = 'Path is not a directory: /user/dave'
    backend = MemoryBackend({'/user': directory('hdfs'), '/user/dave': a_file()},
                            refuse={('mkdirs', '/user/dave'): message})
    plan, outcome = run(backend, ['alice', 'dave', 'erin'])
    assert outcome.created == ['alice', 'erin']
    assert outcome.failures == [{'user': 'dave', 'path': '/user/dave', 'op': 'mkdirs', 'message': message,
                                 'exception': None}]


def test_owner_failure_after_mkdirs_is_a_failure_not_a_creation():
    backend = MemoryBackend({'/user': directory('hdfs')}, refuse={('set_owner', '/user/b'): 'no such user'})
    plan, outcome = run(backend, ['a', 'b'])
    assert outcome.created == ['a']
    assert [item['user'] for item in outcome.failures] == ['b']


def test_no_setowner_when_the_caller_is_the_wanted_owner():
    backend = MemoryBackend({'/user': directory('hdfs')}, identity='svc')
    run(backend, ['a', 'b'], owner='svc')
    assert [call[0] for call in backend.calls] == ['list', 'mkdirs']
    assert backend.entries['/user/a'].owner == 'svc'


def test_missing_base_is_created_first_with_0755():
    backend = MemoryBackend({})
    plan, outcome = run(backend, ['a'], base='/home')
    assert outcome.base_created and outcome.created == ['a']
    assert backend.entries['/home'].permission == 0o755
    assert backend.calls[1] == ('mkdirs', ('/home',))


def test_missing_base_that_cannot_be_made_is_fatal():
    backend = MemoryBackend({}, refuse={('mkdirs', '/home'): 'Permission denied'})
    with pytest.raises(FatalHdfsError, match='Cannot create the base directory /home: Permission denied'):
        run(backend, ['a'], base='/home')


def test_absent_removes_empty_keeps_full_unless_forced():
    entries = {'/user': directory('hdfs'), '/user/empty': directory('empty', children=0),
               '/user/full': directory('full', children=1), '/user/full/x': a_file()}
    backend = MemoryBackend(entries)
    plan, outcome = run(backend, ['empty', 'full', 'gone'], state='absent')
    assert outcome.removed == ['empty'] and outcome.unchanged == ['gone']
    assert [item['user'] for item in outcome.failures] == ['full']
    assert ('delete', ('/user/empty',)) in backend.calls

    backend.calls = []
    plan, outcome = run(backend, ['empty', 'full', 'gone'], state='absent', force=True)
    assert outcome.removed == ['full'] and not outcome.failures
    assert ('delete-r', ('/user/full',)) in backend.calls
    assert '/user/full/x' not in backend.entries


def test_absent_counts_children_the_listing_does_not_give():
    backend = MemoryBackend({'/user': directory('hdfs'), '/user/a': directory('a', children=None),
                             '/user/a/f': a_file(), '/user/b': directory('b', children=None)})
    plan, outcome = run(backend, ['a', 'b'], state='absent')
    assert ('count', ('/user/a', '/user/b')) in backend.calls
    assert outcome.removed == ['b'] and [item['user'] for item in outcome.failures] == ['a']


class Clock(object):
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_safemode_wait_has_one_deadline_for_the_whole_run():
    clock = Clock()
    backend = MemoryBackend(safemode_timeout=5, clock=clock, sleep=clock.sleep, poll_interval=2)
    error = SafeModeError('Name node is in safe mode.', op='MKDIRS', path='/user/a')
    backend.wait_for_safemode(error)
    backend.wait_for_safemode(error)
    backend.wait_for_safemode(error)
    assert clock.sleeps == [2, 2, 1]
    with pytest.raises(FatalHdfsError, match='still in safe mode after waiting 5 seconds'):
        backend.wait_for_safemode(error)
    # Any later write gives up at once instead of waiting another timeout.
    with pytest.raises(FatalHdfsError):
        backend.wait_for_safemode(error)
    assert clock.sleeps == [2, 2, 1]


def test_hdfs_error_describe():
    assert HdfsError('Path is not a directory: /user/d', op='MKDIRS', path='/user/d',
                     exception='FileAlreadyExistsException').describe() == \
        'MKDIRS /user/d: Path is not a directory: /user/d (FileAlreadyExistsException)'
