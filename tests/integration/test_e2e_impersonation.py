"""End to end: a notebook user's Spark job runs as that user, with real Livy, Spark, HDFS and sparkmagic.

The client is sparkmagic (its Livy HTTP client and a per-user config.json carrying proxyUser, as in a
notebook kernel) talking to a Livy server that runs as OS user `livy` and starts Spark through
spark-submit, on YARN when the Hadoop rig has a NodeManager. The tests run in file order:

1. before the role: impersonation off, a job asked for shirley runs as livy; with only Livy switched
   on, HDFS refuses livy acting for shirley ("not allowed to impersonate");
2. playbooks/site.yml (with the role's per-user sparkmagic config), then Livy restarted;
3. after: shirley's and diego's jobs report their own sc.sparkUser(), write files HDFS lists as
   theirs (and YARN records them as the application user); a job for `hdfs` is refused.

Livy's batch API carries the job: the Livy on Maven Central has no interactive interpreter (see
tests/rigs/livy/pom.xml). Impersonation is decided the same way for both: Livy hands proxyUser to
spark-submit --proxy-user, and HDFS/YARN check hadoop.proxyuser.livy.* on every call.
"""

import json
import os
import re
import time

import pytest

from fixtures_livy import hdfs_owner, yarn_app_user
from playbook import REPO_ROOT, run_playbook

USERS = ('shirley', 'diego')
NOT_ALLOWED = re.compile(r'User: livy is not allowed to impersonate (\w+)')


def set_livy_property(path, key, value):
    """Edit one line of livy.conf the way an operator would, for the 'Livy alone' case."""
    with open(path) as handle:
        lines = handle.read().splitlines()
    lines = [line for line in lines if not re.match(r'\s*%s\s*[=:\s]' % re.escape(key), line)]
    lines.append('%s = %s' % (key, value))
    with open(path, 'w') as handle:
        handle.write('\n'.join(lines) + '\n')


@pytest.fixture(scope='module')
def notebook_dirs(tmp_path_factory):
    """Stand-ins for the notebook users' home directories (the role writes .sparkmagic/ there)."""
    return tmp_path_factory.mktemp('notebook-homes')


def test_before_role_job_for_shirley_runs_as_livy(livy, notebook_dirs):
    conf_dir = livy.sparkmagic_config(str(notebook_dirs / 'before' / 'shirley'), 'shirley')
    result = livy.notebook(conf_dir, livy.job('whoami'))
    assert result.sent['proxyUser'] == 'shirley', 'sparkmagic did not send the configured proxyUser'
    assert result.state == 'success', result.explain()
    # Livy drops proxyUser while livy.impersonation.enabled is false.
    assert result.proxy_user is None, result.explain()
    assert result.spark_user == 'livy', result.explain()


def test_before_role_livy_alone_is_refused_by_hdfs(livy, hadoop, notebook_dirs):
    set_livy_property(livy.conf_path, 'livy.impersonation.enabled', 'true')
    livy.restart()
    conf_dir = livy.sparkmagic_config(str(notebook_dirs / 'before' / 'shirley'), 'shirley')
    result = livy.notebook(conf_dir, livy.job('whoami'), '/tmp/e2e-before-role-shirley')
    assert result.proxy_user == 'shirley', result.explain()
    assert result.state == 'dead', result.explain()
    assert NOT_ALLOWED.search(result.text), result.explain()
    assert NOT_ALLOWED.search(result.text).group(1) == 'shirley', result.explain()


@pytest.fixture(scope='module')
def role_applied(livy, hadoop, notebook_dirs):
    """playbooks/site.yml against this host (per-user sparkmagic configs included), then a Livy restart."""
    variables = dict(hadoop.role_variables(), **{
        'livy_impersonation_hosts': 'localhost',
        'livy_impersonation_livy_conf_path': livy.conf_path,
        'livy_impersonation_users': list(USERS),
        # Livy reaches the NameNode and ResourceManager over loopback.
        'livy_impersonation_proxyuser_hosts': ['127.0.0.1'],
        # No service manager runs the rig's Livy: the test restarts it below, as the handler would.
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_refresh_yarn': livy.on_yarn,
        # hdfs dfs, not WebHDFS: the module then needs no requests on the managed node's Python.
        'livy_impersonation_hdfs_backend': 'cli',
        'livy_impersonation_backup': False,
        # The per-user sparkmagic config.json (tasks/sparkmagic.yml).
        'livy_impersonation_sparkmagic_config': True,
        'livy_impersonation_sparkmagic_livy_url': livy.url,
        'livy_impersonation_sparkmagic_home_base': str(notebook_dirs / 'home'),
        'livy_impersonation_sparkmagic_set_owner': False,
        'livy_impersonation_sparkmagic_session_configs': {},
        'livy_impersonation_sparkmagic_startup_timeout': 300,
    })
    env = {
        # The handlers run hdfs/yarn admin commands as the hdfs and yarn users, whose login shell
        # is nologin and who have no sudo here: su with an explicit shell.
        'ANSIBLE_BECOME_METHOD': 'su',
        'ANSIBLE_BECOME_FLAGS': '-s /bin/sh',
        # A Python the hdfs and yarn users can run (the suite's own is under root's home, 0700).
        'ANSIBLE_PYTHON_INTERPRETER': '/usr/bin/python3',
    }
    # The users' homes exist, as on a hub host; the role writes only inside them.
    for user in USERS:
        (notebook_dirs / 'home' / user).mkdir(parents=True, exist_ok=True)
    # The Hadoop rig is shared by the whole session: later tests get its proxy-user scope back.
    with hadoop.core_site_restored():
        yield from apply_role(livy, notebook_dirs, variables, env)


def apply_role(livy, notebook_dirs, variables, env):
    began = time.monotonic()
    site = run_playbook(os.path.join(REPO_ROOT, 'playbooks', 'site.yml'), extra_vars=variables, env=env)
    assert site.rc == 0, 'playbooks/site.yml failed:\n%s\n%s' % (site.stdout[-20000:], site.stderr[-5000:])
    livy.timings['role'] = round(time.monotonic() - began, 1)
    livy.restart()
    yield {user: str(notebook_dirs / 'home' / user / '.sparkmagic') for user in USERS}


def test_role_renders_sparkmagic_config_with_proxy_user(role_applied, livy):
    for user, conf_dir in role_applied.items():
        with open(os.path.join(conf_dir, 'config.json')) as handle:
            config = json.load(handle)
        assert config['session_configs']['proxyUser'] == user
        assert config['kernel_python_credentials']['url'] == livy.url


@pytest.mark.parametrize('user', USERS)
def test_after_role_job_runs_as_notebook_user(role_applied, livy, hadoop, user):
    target = '/user/%s/e2e-%d' % (user, time.time())
    result = livy.notebook(role_applied[user], livy.job('whoami'), target)
    assert result.state == 'success', result.explain()
    assert result.proxy_user == user, result.explain()
    assert result.spark_user == user, result.explain()
    assert result.marker('WROTE') == target, result.explain()
    assert hdfs_owner(hadoop, target) == user, hadoop.hdfs('dfs', '-ls', '-R', '/user/' + user).stdout
    assert hdfs_owner(hadoop, target + '/_SUCCESS') == user
    if livy.on_yarn:
        assert result.app_id, result.explain()
        assert yarn_app_user(hadoop, result.app_id) == user, result.explain()


def test_after_role_job_for_hdfs_is_refused(role_applied, livy, hadoop, notebook_dirs):
    # hdfs is the HDFS superuser: the role's default scope (hadoop.proxyuser.livy.users = the
    # notebook users) must keep Livy from acting as it.
    conf_dir = livy.sparkmagic_config(str(notebook_dirs / 'after' / 'hdfs'), 'hdfs')
    result = livy.notebook(conf_dir, livy.job('whoami'), '/tmp/e2e-after-role-hdfs')
    assert result.proxy_user == 'hdfs', result.explain()
    assert result.state == 'dead', result.explain()
    refused = NOT_ALLOWED.search(result.text)
    assert refused and refused.group(1) == 'hdfs', result.explain()
    assert hadoop.hdfs('dfs', '-test', '-e', '/tmp/e2e-after-role-hdfs').returncode != 0
