"""jupyterhub_users through main(): what it refuses before any hub request, and how it reports
a hub it cannot reach (the hub's own answers are tested against a real hub in tests/integration)."""

import socket

import pytest

from ansible_collections.datalake.notebooks.plugins.modules import jupyterhub_users


@pytest.fixture
def closed_url():
    """http://127.0.0.1:PORT where nothing listens."""
    with socket.socket() as probe:
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
    return 'http://127.0.0.1:%d' % port


@pytest.fixture
def run(run_module, monkeypatch):
    monkeypatch.delenv('JUPYTERHUB_API_TOKEN', raising=False)

    def runner(args, check=False):
        return run_module(jupyterhub_users, args, check=check)
    return runner


def test_no_token_is_refused_naming_both_ways_to_give_one(run, closed_url):
    result = run({'url': closed_url})
    assert result['failed'] is True
    assert result['msg'].startswith('No API token: set api_token, or JUPYTERHUB_API_TOKEN')


@pytest.mark.parametrize('args, message', [
    ({'exclusive': True}, 'exclusive=true needs users'),
    ({'exclusive': True, 'users': ['a'], 'state': 'absent'}, 'exclusive=true only applies to state=present.'),
])
def test_contradictory_options_are_refused(run, closed_url, args, message):
    result = run(dict(args, url=closed_url, api_token='t0ken'))
    assert result['failed'] is True and message in result['msg']


def test_invalid_names_are_returned_as_invalid_users_and_the_token_is_not(run, closed_url):
    result = run({'url': closed_url, 'api_token': 's3cret-t0ken', 'users': ['ok', 'a b', '-r']})
    assert result['failed'] is True
    assert result['invalid_users'] == [{'name': 'a b', 'reason': 'contains whitespace'},
                                       {'name': '-r', 'reason': 'starts with "-", which commands read as an option'}]
    assert 's3cret-t0ken' not in repr(result)


def test_a_hub_that_cannot_be_reached_is_named(run, closed_url):
    result = run({'url': closed_url, 'api_token': 's3cret-t0ken', 'timeout': 5})
    assert result['failed'] is True
    assert result['msg'].startswith('Cannot reach JupyterHub at %s' % closed_url), result['msg']
    assert 's3cret-t0ken' not in repr(result)
