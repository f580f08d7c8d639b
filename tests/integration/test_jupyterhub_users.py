"""datalake.notebooks.jupyterhub_users through ansible-playbook against a real JupyterHub.

Outcomes are checked with the hub's own REST API (fixtures_jupyterhub.Hub), not with module code.
The hub is shared by the session: each test uses names of its own and reads the state it starts from.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from broken_http import BrokenHub
from playbook import local_play, run_playbook
from rigs import free_port

MODULE = 'datalake.notebooks.jupyterhub_users'
# The module runs with the test suite's Python (it has requests), whatever interpreter discovery finds.
ENV = {'ANSIBLE_PYTHON_INTERPRETER': sys.executable}


def task(name, token, hub_url, **args):
    return {'name': name, MODULE: dict({'url': hub_url, 'api_token': token}, **args), 'register': 'out'}


def run(tasks, **kwargs):
    env = dict(ENV, **kwargs.pop('env', {}))
    return run_playbook(local_play(tasks), env=env, **kwargs)


def failing(tasks, **kwargs):
    """Run tasks expected to fail; each one carries ignore_errors so every result is recorded."""
    return run([dict(item, ignore_errors=True) for item in tasks], **kwargs)


def four_ways(hub, name, **args):
    """check, apply, check again, apply again: the four results."""
    tasks = []
    for step, check in (('check', True), ('apply', False), ('check again', True), ('apply again', False)):
        item = task('%s: %s' % (name, step), hub.admin_token, hub.url, **args)
        item['check_mode'] = check
        tasks.append(item)
    result = run(tasks)
    assert result.rc == 0, result.stdout + result.stderr
    return [result.task('%s: %s' % (name, step)) for step in ('check', 'apply', 'check again', 'apply again')]


def test_lists_450_users_across_pages(jupyterhub):
    names = ['page-%03d' % number for number in range(450)]
    jupyterhub.create_users(names)
    expected = jupyterhub.user_names()
    assert len(expected) >= 450

    result = run([task('read', jupyterhub.readonly_token, jupyterhub.url)])

    assert result.rc == 0, result.stdout + result.stderr
    out = result.task('read')
    assert out['changed'] is False
    # More than the hub's 200-user page: every page was followed.
    assert out['users'] == expected
    assert set(names) <= set(out['users'])
    assert out['created'] == [] and out['removed'] == []
    assert out['hub_version']


def test_create_is_one_bulk_request_and_idempotent(jupyterhub):
    names = ['create-b', 'create-a', 'create-c']
    jupyterhub.delete_users(names)
    before = jupyterhub.user_names()

    check, apply, check_again, apply_again = four_ways(jupyterhub, 'create', users=names)

    assert check['changed'] is True and check['created'] == sorted(names)
    assert apply['changed'] is True and apply['created'] == sorted(names)
    assert check_again['changed'] is False and check_again['created'] == []
    assert apply_again['changed'] is False and apply_again['created'] == []
    after = jupyterhub.user_names()
    assert after == sorted(set(before) | set(names))
    assert apply['users'] == after and apply_again['users'] == after
    # Created by the bulk POST /hub/api/users, never by POST /hub/api/users/<name>.
    with open(jupyterhub.log) as handle:
        log = handle.read()
    assert '201 POST /hub/api/users (ops@' in log
    assert 'POST /hub/api/users/create-' not in log


def test_check_mode_writes_nothing(jupyterhub):
    jupyterhub.create_users(['checkmode-old'])
    before = jupyterhub.user_names()

    result = run([
        dict(task('would create', jupyterhub.admin_token, jupyterhub.url, users=['checkmode-new']),
             check_mode=True),
        dict(task('would remove', jupyterhub.admin_token, jupyterhub.url, users=['checkmode-old'],
                  state='absent'), check_mode=True),
        dict(task('would trim', jupyterhub.admin_token, jupyterhub.url, users=['checkmode-old'],
                  exclusive=True), check_mode=True),
    ])

    assert result.rc == 0, result.stdout + result.stderr
    assert result.task('would create')['created'] == ['checkmode-new']
    assert 'checkmode-new' in result.task('would create')['users']
    assert result.task('would remove')['removed'] == ['checkmode-old']
    assert 'checkmode-old' not in result.task('would remove')['users']
    assert result.task('would trim')['changed'] is True
    trim = result.task('would trim')
    assert trim['users'] == sorted(['checkmode-old'] + trim['kept_admins'])
    assert jupyterhub.user_names() == before


def test_remove_is_idempotent(jupyterhub):
    jupyterhub.create_users(['remove-a', 'remove-b', 'remove-keep'])

    check, apply, check_again, apply_again = four_ways(
        jupyterhub, 'remove', users=['remove-a', 'remove-b', 'remove-never-existed'], state='absent')

    assert check['changed'] is True and check['removed'] == ['remove-a', 'remove-b']
    assert apply['changed'] is True and apply['removed'] == ['remove-a', 'remove-b']
    assert check_again['changed'] is False and apply_again['changed'] is False
    names = jupyterhub.user_names()
    assert 'remove-a' not in names and 'remove-b' not in names and 'remove-keep' in names
    assert apply_again['users'] == names


def test_diff_shows_user_list_before_and_after(jupyterhub):
    jupyterhub.delete_users(['diff-new'])
    before = jupyterhub.user_names()

    result = run([task('diff', jupyterhub.admin_token, jupyterhub.url, users=['diff-new'])], diff=True)

    assert result.rc == 0, result.stdout + result.stderr
    diff = result.task('diff')['diff']
    assert diff['before'].splitlines() == before
    assert diff['after'].splitlines() == sorted(before + ['diff-new'])


def test_exclusive_removes_unlisted_users_but_not_admins(jupyterhub):
    jupyterhub.create_users(['exclusive-victim-1', 'exclusive-victim-2', 'exclusive-stays'])
    jupyterhub.create_users(['exclusive-admin'], admin=True)
    # Keep every user the other tests made, so the shared hub only loses the two victims.
    keep = [name for name in jupyterhub.user_names()
            if name not in ('exclusive-victim-1', 'exclusive-victim-2', 'exclusive-admin')]
    wanted = keep + ['exclusive-new']

    check, apply, check_again, apply_again = four_ways(jupyterhub, 'exclusive', users=wanted, exclusive=True)

    for out in (check, apply):
        assert out['changed'] is True
        assert out['created'] == ['exclusive-new']
        assert out['removed'] == ['exclusive-victim-1', 'exclusive-victim-2']
        assert out['kept_admins'] == ['exclusive-admin']
    for out in (check_again, apply_again):
        assert out['changed'] is False and out['removed'] == [] and out['created'] == []
    names = jupyterhub.user_names()
    assert names == sorted(wanted + ['exclusive-admin'])
    assert jupyterhub.user_models()['exclusive-admin']['admin'] is True


def test_admin_users_need_a_hub_admin_token(jupyterhub):
    jupyterhub.delete_users(['admin-made'])

    refused = failing([task('scope only', jupyterhub.admin_token, jupyterhub.url, users=['admin-made'], admin=True)])
    made = run([task('hub admin', jupyterhub.superuser_token, jupyterhub.url, users=['admin-made'], admin=True)])

    assert refused.task('scope only')['failed'] is True
    assert 'hub admin' in refused.task('scope only')['msg']
    assert made.rc == 0, made.stdout + made.stderr
    assert jupyterhub.user_models()['admin-made']['admin'] is True


def test_read_only_token_reads_and_gets_a_clear_error_on_change(jupyterhub):
    jupyterhub.create_users(['readonly-victim'])
    jupyterhub.delete_users(['readonly-new'])
    before = jupyterhub.user_names()

    result = failing([
        task('read', jupyterhub.readonly_token, jupyterhub.url),
        task('create', jupyterhub.readonly_token, jupyterhub.url, users=['readonly-new']),
        task('remove', jupyterhub.readonly_token, jupyterhub.url, users=['readonly-victim'], state='absent'),
    ])

    assert result.task('read')['users'] == before
    for name in ('create', 'remove'):
        out = result.task(name)
        assert out['failed'] is True
        assert 'missing the scope admin:users' in out['msg'], out['msg']
    assert jupyterhub.user_names() == before


def test_wrong_token_is_rejected_clearly(jupyterhub):
    result = failing([task('wrong', 'not-a-token-0123456789', jupyterhub.url)])

    out = result.task('wrong')
    assert out['failed'] is True
    assert 'rejected the API token' in out['msg'] and 'list:users' in out['msg']
    assert 'not-a-token-0123456789' not in result.stdout + result.stderr


def test_hub_down_names_the_url(jupyterhub):
    url = 'http://127.0.0.1:%d' % free_port()

    result = failing([task('down', jupyterhub.admin_token, url, timeout=5)])

    out = result.task('down')
    assert out['failed'] is True
    assert 'Cannot reach JupyterHub at %s' % url in out['msg']


def test_wrong_base_url_says_so(jupyterhub):
    result = failing([task('api url', jupyterhub.admin_token, jupyterhub.url + '/hub/api')])

    out = result.task('api url')
    assert out['failed'] is True
    assert 'No JupyterHub API at' in out['msg'] and 'without /hub/api' in out['msg']


def test_invalid_names_are_all_reported_before_any_call(jupyterhub):
    bad = ['', '.', '..', 'a/b', 'with space', 'tab\there', 'nl\nx']
    before = jupyterhub.user_names()

    result = failing([task('bad names', jupyterhub.admin_token, jupyterhub.url, users=['fine-name'] + bad)])

    out = result.task('bad names')
    assert out['failed'] is True
    assert [entry['name'] for entry in out['invalid_users']] == bad
    assert "'a/b'" in out['msg'] and "'with space'" in out['msg'] and "'..'" in out['msg']
    assert jupyterhub.user_names() == before


def test_tls_needs_the_ca(jupyterhub_tls):
    hub = jupyterhub_tls
    result = failing([
        task('default trust', hub.admin_token, hub.url),
        task('with ca_path', hub.admin_token, hub.url, ca_path=hub.ca, users=['tls-user']),
        task('no validation', hub.admin_token, hub.url, validate_certs=False),
    ])

    refused = result.task('default trust')
    assert refused['failed'] is True
    assert 'TLS verification failed' in refused['msg'] and 'ca_path' in refused['msg']
    assert result.task('with ca_path')['created'] == ['tls-user']
    assert 'tls-user' in result.task('no validation')['users']
    assert hub.user_names() == result.task('with ca_path')['users']


def test_token_from_environment(jupyterhub):
    result = run([{'name': 'env token', MODULE: {'url': jupyterhub.url}, 'register': 'out'}],
                 env={'JUPYTERHUB_API_TOKEN': jupyterhub.readonly_token})

    assert result.rc == 0, result.stdout + result.stderr
    assert result.task('env token')['users'] == jupyterhub.user_names()


def test_no_token_in_verbose_output(jupyterhub, jupyterhub_tls):
    tasks = [
        task('ok', jupyterhub.admin_token, jupyterhub.url, users=['verbose-user']),
        task('read only', jupyterhub.readonly_token, jupyterhub.url, users=['verbose-denied']),
        task('tls', jupyterhub_tls.superuser_token, jupyterhub_tls.url),
        task('down', jupyterhub.admin_token, 'http://127.0.0.1:1', timeout=2),
    ]
    for callback in ('ansible.builtin.default', 'ansible.posix.json'):
        result = failing(tasks, verbosity=3, diff=True, callback=callback)
        output = result.stdout + result.stderr
        assert 'verbose-user' in output  # the run did print results
        for token in jupyterhub.tokens + jupyterhub_tls.tokens:
            assert token not in output, 'a token is in the %s -vvv output' % callback


def test_token_with_surrounding_whitespace_works_and_is_never_printed(jupyterhub):
    """A token from a YAML block scalar or a slurped file ends in a newline; one with whitespace or
    control characters inside is refused. Neither form reaches the -vvv output of any task."""
    jupyterhub.delete_users(['whitespace-token-user'])
    admin, reader = jupyterhub.admin_token, jupyterhub.readonly_token
    inner = {
        'inner space': admin[:20] + ' ' + admin[20:],
        'inner control character': admin[:20] + '\x01' + admin[20:],
        'inner non-ASCII': admin[:20] + '\u00e9' + admin[20:],
    }
    tasks = [
        task('block scalar token creates', '  ' + admin + '\r\n', jupyterhub.url, users=['whitespace-token-user']),
        task('newline token reads', reader + '\n', jupyterhub.url),
        task('newline token, hub down', admin + '\n', 'http://127.0.0.1:%d' % free_port(), timeout=2),
        task('only whitespace', ' \n', jupyterhub.url),
    ] + [task(name, token, jupyterhub.url) for name, token in inner.items()]

    result = failing(tasks)
    assert result.task('newline token reads')['users'] == jupyterhub.user_names()
    assert result.task('block scalar token creates')['created'] == ['whitespace-token-user']
    assert 'whitespace-token-user' in jupyterhub.user_names()
    down = result.task('newline token, hub down')
    assert down['failed'] is True and 'Cannot reach JupyterHub at http://127.0.0.1:' in down['msg']
    assert 'The API token is empty (or only whitespace)' in result.task('only whitespace')['msg']
    for name in inner:
        out = result.task(name)
        assert out['failed'] is True
        assert 'at position 21 of %d' % (len(admin) + 1) in out['msg'] and 'it is not shown' in out['msg']
    assert 'whitespace or a control character' in result.task('inner space')['msg']
    assert 'whitespace or a control character' in result.task('inner control character')['msg']
    assert 'not printable ASCII' in result.task('inner non-ASCII')['msg']

    for callback in ('ansible.builtin.default', 'ansible.posix.json'):
        result = failing(tasks, verbosity=3, callback=callback)
        output = result.stdout + result.stderr
        assert 'whitespace-token-user' in output  # the run did print results
        for secret in (admin, reader) + tuple(part for token in inner.values() for part in (token[:20], token[21:])):
            assert secret not in output, 'a token is in the %s -vvv output' % callback


def broken_hub_task(name, hub, **args):
    return task(name, 'broken-hub-token-0123456789', hub.url, **args)


def test_pages_that_never_end_stop_at_the_cap():
    with BrokenHub('endless-pages') as hub:
        began = time.monotonic()
        result = failing([broken_hub_task('endless', hub)], timeout=300)
        elapsed = time.monotonic() - began
        pages = hub.count('/hub/api/users')

    out = result.task('endless')
    assert out['failed'] is True
    assert 'stopped at the cap of 1000 pages, with 1000 users so far' in out['msg'], out['msg']
    assert '%s/hub/api/users?offset=1000&limit=' % hub.url in out['msg']
    assert pages == 1000
    assert elapsed < 120, 'listing 1000 pages took %.0f s' % elapsed


@pytest.mark.parametrize('mode, users, pages', [
    # An empty page ends the listing although its `next` points further.
    ('empty-pages', ['first-0', 'first-1', 'first-2'], 2),
    # `_pagination.total` ends it although `next` is never null.
    ('past-total', ['user-0', 'user-1', 'user-2'], 3),
])
def test_listing_ends_on_an_empty_page_or_at_the_total(mode, users, pages):
    with BrokenHub(mode) as hub:
        result = run([broken_hub_task(mode, hub)], timeout=120)
        asked = hub.count('/hub/api/users')

    assert result.rc == 0, result.stdout + result.stderr
    assert result.task(mode)['users'] == users
    assert asked == pages


@pytest.mark.parametrize('mode, message', [
    ('reset', 'Connection reset by peer'),
    ('slow', 'did not answer in time'),
])
def test_resets_and_slow_answers_are_retried_a_bounded_number_of_times(mode, message):
    with BrokenHub(mode, delay=3) as hub:
        began = time.monotonic()
        result = failing([broken_hub_task(mode, hub, timeout=1)], timeout=120)
        elapsed = time.monotonic() - began
        attempts = hub.count('/hub/api/')

    out = result.task(mode)
    assert out['failed'] is True
    assert out['msg'].startswith('%s %s' % ('Cannot reach JupyterHub at' if mode == 'reset' else 'JupyterHub at',
                                            hub.url)), out['msg']
    assert message in out['msg'], out['msg']
    # 1 + 3 retries with backoff (0.25 to 3.5 s in all), each slow attempt cut at the 1 s timeout.
    assert attempts == 4
    assert elapsed < 60


def test_missing_requests_fails_with_missing_required_lib(jupyterhub, tmp_path):
    bare = tmp_path / 'bare'
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(bare)], check=True)
    python = str(bare / 'bin' / 'python')
    probe = subprocess.run([python, '-c', 'import requests'], capture_output=True, check=False)
    assert probe.returncode != 0, 'the bare virtualenv has requests'

    result = failing([task('no requests', jupyterhub.admin_token, jupyterhub.url)],
                     env={'ANSIBLE_PYTHON_INTERPRETER': python})

    out = result.task('no requests')
    assert out['failed'] is True
    assert 'Failed to import the required Python library (requests)' in out['msg']
