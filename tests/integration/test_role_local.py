"""The role against a local directory of real-looking config files (no services touched).

Runs the role four ways (check, apply, check, apply) and asserts that the second pass changes
nothing, that check mode writes nothing, and that refused settings leave the files as they were.
"""

import difflib
import json
import os
import pwd
import shutil
import subprocess

import pytest

from playbook import REPO_ROOT, local_play, run_playbook

FILES = os.path.join(REPO_ROOT, 'tests', 'integration', 'files')
LIVY_TEMPLATE = os.path.join(REPO_ROOT, 'tests', 'unit', 'fixtures', 'livy.conf.template')


@pytest.fixture
def conf_dir(tmp_path):
    shutil.copy(LIVY_TEMPLATE, tmp_path / 'livy.conf')
    shutil.copy(os.path.join(FILES, 'core-site.xml'), tmp_path / 'core-site.xml')
    return tmp_path


def role_vars(conf_dir, **extra):
    values = {
        'livy_impersonation_livy_conf_path': str(conf_dir / 'livy.conf'),
        'livy_impersonation_core_site_path': str(conf_dir / 'core-site.xml'),
        'livy_impersonation_users': ['shirley', 'diego'],
        'livy_impersonation_proxyuser_hosts': ['master-1.example.internal', '10.0.0.5'],
        'livy_impersonation_hdfs_homedirs': False,
        'livy_impersonation_livy_restart': False,
        'livy_impersonation_proxyuser_apply': 'none',
        'livy_impersonation_backup': False,
    }
    values.update(extra)
    return values


def role_play():
    return local_play([{'name': 'Apply the role', 'ansible.builtin.include_role': {
        'name': 'datalake.notebooks.livy_impersonation'}}])


def snapshot(conf_dir):
    return {name: (conf_dir / name).read_bytes() for name in ('livy.conf', 'core-site.xml')}


def test_role_four_ways(conf_dir):
    before = snapshot(conf_dir)
    variables = role_vars(conf_dir)

    check = run_playbook(role_play(), check=True, diff=True, extra_vars=variables)
    assert check.rc == 0, check.stdout + check.stderr
    assert check.changed == 2
    assert snapshot(conf_dir) == before, 'check mode wrote a file'

    apply = run_playbook(role_play(), extra_vars=variables)
    assert apply.rc == 0, apply.stdout + apply.stderr
    assert apply.changed == 2

    livy_conf = (conf_dir / 'livy.conf').read_text()
    # The template's commented line became the active setting, in place.
    assert '# livy.impersonation.enabled' not in livy_conf
    assert [line for line in livy_conf.splitlines() if line.startswith('livy.impersonation.enabled')] \
        == ['livy.impersonation.enabled = true']
    core_site = (conf_dir / 'core-site.xml').read_text()
    assert '<name>hadoop.proxyuser.livy.hosts</name>' in core_site
    assert '<value>master-1.example.internal,10.0.0.5</value>' in core_site
    assert '<value>diego,shirley</value>' in core_site
    assert 'hadoop.proxyuser.livy.groups' not in core_site
    # Untouched parts are byte-for-byte the same.
    original = before['core-site.xml'].decode()
    assert core_site.startswith(original[:original.index('</configuration>')])

    for check_mode in (True, False):
        again = run_playbook(role_play(), check=check_mode, extra_vars=variables)
        assert again.rc == 0, again.stdout + again.stderr
        assert again.changed == 0, 'second run (check=%s) reported a change' % check_mode
    assert (conf_dir / 'livy.conf').read_text() == livy_conf
    assert (conf_dir / 'core-site.xml').read_text() == core_site


def test_scope_switch_removes_unused_keys(conf_dir):
    first = run_playbook(role_play(), extra_vars=role_vars(conf_dir))
    assert first.rc == 0, first.stdout + first.stderr
    switched = run_playbook(role_play(), extra_vars=role_vars(
        conf_dir, livy_impersonation_proxyuser_groups=['analysts'], livy_impersonation_proxyuser_users=[]))
    assert switched.rc == 0, switched.stdout + switched.stderr
    core_site = (conf_dir / 'core-site.xml').read_text()
    assert '<value>analysts</value>' in core_site
    # users still default to the notebook users; groups are added beside them
    assert '<value>diego,shirley</value>' in core_site


@pytest.mark.parametrize('user', ['hdfs', 'root', 'livy', 'yarn', 'mapred'])
def test_service_accounts_refused_and_files_untouched(conf_dir, user):
    before = snapshot(conf_dir)
    run = run_playbook(role_play(), extra_vars=role_vars(conf_dir, livy_impersonation_users=['shirley', user]))
    assert run.rc != 0
    assert 'the notebook users must not contain %s' % user in run.stdout
    assert snapshot(conf_dir) == before


def test_wildcard_scope_warns(conf_dir):
    run = run_playbook(role_play(), callback='ansible.builtin.default', extra_vars=role_vars(
        conf_dir, livy_impersonation_proxyuser_hosts=['*'], livy_impersonation_proxyuser_groups=['*']))
    assert run.rc == 0, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert 'hadoop.proxyuser.livy.hosts is "*"' in output
    assert 'hadoop.proxyuser.livy.groups is "*"' in output


def test_default_hosts_are_the_role_hosts_addresses(conf_dir):
    variables = role_vars(conf_dir)
    del variables['livy_impersonation_proxyuser_hosts']
    run = run_playbook(role_play(), extra_vars=variables)
    assert run.rc == 0, run.stdout + run.stderr
    facts = run_playbook(local_play([{'name': 'facts', 'ansible.builtin.setup': {'gather_subset': ['min', 'network']}}]))
    fqdn = facts.task('facts')['ansible_facts']['ansible_fqdn']
    assert '<name>hadoop.proxyuser.livy.hosts</name>' in (conf_dir / 'core-site.xml').read_text()
    hosts_line = [line for line in (conf_dir / 'core-site.xml').read_text().splitlines()
                  if fqdn in line]
    assert hosts_line, 'the host FQDN %s is not in the proxy-user hosts' % fqdn


EMR_GUIDE = [
    {'Classification': 'livy-conf', 'Properties': {'livy.impersonation.enabled': 'true'}},
    {'Classification': 'core-site', 'Properties': {'hadoop.proxyuser.livy.groups': '*',
                                                   'hadoop.proxyuser.livy.hosts': '*'}},
]


def test_emr_configurations_playbook_writes_the_guide(tmp_path):
    out = tmp_path / 'configurations.json'
    run = run_playbook(os.path.join(REPO_ROOT, 'playbooks', 'emr_configurations.yml'), inventory='localhost,',
                       extra_vars={'livy_impersonation_proxyuser_hosts': '*',
                                   'livy_impersonation_proxyuser_groups': '*',
                                   'emr_configurations_path': str(out)})
    assert run.rc == 0, run.stdout + run.stderr
    assert json.loads(out.read_text()) == EMR_GUIDE


def test_emr_configurations_playbook_needs_hosts(tmp_path):
    out = tmp_path / 'configurations.json'
    run = run_playbook(os.path.join(REPO_ROOT, 'playbooks', 'emr_configurations.yml'), inventory='localhost,',
                       extra_vars={'emr_configurations_path': str(out)})
    assert run.rc != 0
    assert 'Set livy_impersonation_proxyuser_hosts' in run.stdout
    assert not out.exists()


def test_sparkmagic_config_per_user(conf_dir, tmp_path):
    homes = tmp_path / 'home'
    for user in ('diego', 'shirley'):
        (homes / user).mkdir(parents=True)
    variables = role_vars(conf_dir, livy_impersonation_sparkmagic_config=True,
                          livy_impersonation_sparkmagic_home_base=str(homes),
                          livy_impersonation_sparkmagic_set_owner=False)
    run = run_playbook(role_play(), extra_vars=variables)
    assert run.rc == 0, run.stdout[-5000:] + run.stderr
    for user in ('diego', 'shirley'):
        path = homes / user / '.sparkmagic' / 'config.json'
        config = json.loads(path.read_text())
        assert config['session_configs']['proxyUser'] == user
        # Without a URL, Livy on this host's FQDN, port 8998.
        assert config['kernel_python_credentials']['url'].endswith(':8998')
        assert oct(path.stat().st_mode & 0o777) == '0o600'
    again = run_playbook(role_play(), extra_vars=variables)
    assert again.rc == 0 and again.changed == 0, again.stdout[-5000:]


def _useradd(name, home):
    subprocess.run(['userdel', name], capture_output=True, check=False)
    subprocess.run(['useradd', '--shell', '/usr/sbin/nologin', '--no-create-home', '--home-dir', home, name],
                   check=True, capture_output=True)


def _user_exists(name):
    return subprocess.run(['getent', 'passwd', name], capture_output=True, check=False).returncode == 0


def test_symlink_in_a_users_home_is_not_followed(conf_dir, tmp_path):
    """A notebook user who points ~/.sparkmagic at a system directory gets nothing changed there."""
    homes, victim = tmp_path / 'home', tmp_path / 'etc-like'
    victim.mkdir(mode=0o755)
    (victim / 'passwd').write_text('root:x:0:0::/root:/bin/sh\n')
    users = ['dnrole-alice', 'dnrole-mallory']
    try:
        for user in users:
            _useradd(user, str(homes / user))
            (homes / user).mkdir(parents=True)
            entry = pwd.getpwnam(user)
            os.chown(homes / user, entry.pw_uid, entry.pw_gid)
        os.symlink(str(victim), str(homes / 'dnrole-mallory' / '.sparkmagic'))
        before = [(os.lstat(path).st_uid, os.lstat(path).st_mode, os.lstat(path).st_ino)
                  for path in (victim, victim / 'passwd')]
        variables = role_vars(conf_dir, livy_impersonation_users=users, livy_impersonation_sparkmagic_config=True,
                              livy_impersonation_sparkmagic_home_base=str(homes))
        run = run_playbook(role_play(), extra_vars=variables)
        assert run.rc == 0, run.stdout[-5000:] + run.stderr
        after = [(os.lstat(path).st_uid, os.lstat(path).st_mode, os.lstat(path).st_ino)
                 for path in (victim, victim / 'passwd')]
        assert after == before, 'the link target was chowned or chmodded'
        assert sorted(os.listdir(victim)) == ['passwd']
        result = run.task('Each notebook user\'s sparkmagic sessions run as that user (config.json)')
        assert [entry['user'] for entry in result['refused']] == ['dnrole-mallory']
        alice = homes / 'dnrole-alice' / '.sparkmagic' / 'config.json'
        assert alice.stat().st_uid == pwd.getpwnam('dnrole-alice').pw_uid
    finally:
        for user in users:
            subprocess.run(['userdel', user], capture_output=True, check=False)


def test_refused_user_is_never_created(conf_dir):
    """Accounts are made only after every check: a refused name stops the run before any useradd."""
    for user in ('dnrole-new', 'dnrole-super'):
        subprocess.run(['userdel', user], capture_output=True, check=False)
    before = snapshot(conf_dir)
    variables = role_vars(conf_dir, livy_impersonation_users=['dnrole-new', 'dnrole-super'],
                          livy_impersonation_hdfs_superuser='dnrole-super',
                          livy_impersonation_create_os_users=True)
    try:
        run = run_playbook(role_play(), extra_vars=variables)
        assert run.rc != 0
        assert 'must not contain dnrole-super' in run.stdout
        assert not _user_exists('dnrole-new') and not _user_exists('dnrole-super')
        assert snapshot(conf_dir) == before
    finally:
        for user in ('dnrole-new', 'dnrole-super'):
            subprocess.run(['userdel', user], capture_output=True, check=False)


def test_refused_declared_hub_user_is_never_created(conf_dir, jupyterhub):
    """A declared hub user that may not be impersonated is refused before the hub is asked to create anyone."""
    jupyterhub.delete_users(['dnrole-declared', 'mapred'])
    variables = role_vars(conf_dir, livy_impersonation_users=[],
                          livy_impersonation_jupyterhub_url=jupyterhub.url,
                          livy_impersonation_jupyterhub_api_token=jupyterhub.admin_token,
                          livy_impersonation_jupyterhub_declared_users=['dnrole-declared', 'mapred'])
    before = snapshot(conf_dir)
    run = run_playbook(role_play(), extra_vars=variables)
    assert run.rc != 0
    assert 'must not contain mapred' in run.stdout
    names = jupyterhub.user_names()
    assert 'dnrole-declared' not in names and 'mapred' not in names
    assert snapshot(conf_dir) == before


def test_hdfs_superuser_group_from_hdfs_site_is_refused_as_proxyuser_group(conf_dir):
    """groups: [hadoop] on a cluster whose hdfs-site.xml makes `hadoop` the superuser group is refused."""
    hdfs_site = conf_dir / 'hdfs-site.xml'
    hdfs_site.write_text('<configuration>\n  <property><name>dfs.permissions.superusergroup</name>'
                         '<value>hadoop</value></property>\n</configuration>\n')
    before = snapshot(conf_dir)
    run = run_playbook(role_play(), extra_vars=role_vars(conf_dir, livy_impersonation_hdfs_site_path=str(hdfs_site),
                                                         livy_impersonation_proxyuser_groups=['analysts', 'hadoop']))
    assert run.rc != 0
    assert 'hadoop' in run.stdout and 'superuser group' in run.stdout, run.stdout[-3000:]
    assert snapshot(conf_dir) == before


def test_default_superuser_group_is_refused_without_hdfs_site(conf_dir):
    run = run_playbook(role_play(), extra_vars=role_vars(
        conf_dir, livy_impersonation_hdfs_site_path=str(conf_dir / 'missing-hdfs-site.xml'),
        livy_impersonation_proxyuser_groups=['supergroup']))
    assert run.rc != 0
    assert 'supergroup' in run.stdout and 'superuser group' in run.stdout, run.stdout[-3000:]
    # Another group is fine on the same cluster.
    ok = run_playbook(role_play(), extra_vars=role_vars(
        conf_dir, livy_impersonation_hdfs_site_path=str(conf_dir / 'missing-hdfs-site.xml'),
        livy_impersonation_proxyuser_groups=['analysts']))
    assert ok.rc == 0, ok.stdout[-3000:] + ok.stderr
    assert '<value>analysts</value>' in (conf_dir / 'core-site.xml').read_text()


def test_emr_configurations_refuse_emrs_superuser_group(tmp_path):
    out = tmp_path / 'configurations.json'
    run = run_playbook(os.path.join(REPO_ROOT, 'playbooks', 'emr_configurations.yml'), inventory='localhost,',
                       extra_vars={'livy_impersonation_proxyuser_hosts': '*',
                                   'livy_impersonation_proxyuser_groups': 'hadoop',
                                   'emr_configurations_path': str(out)})
    assert run.rc != 0
    assert 'superuser group' in run.stdout
    assert not out.exists()


def test_one_more_user_shows_as_one_line_in_the_core_site_diff(conf_dir):
    """With many users, the diff of a run that adds one user names that user, not the whole list."""
    users = ['nb%03d' % index for index in range(60)]
    first = run_playbook(role_play(), extra_vars=role_vars(conf_dir, livy_impersonation_users=users))
    assert first.rc == 0, first.stdout[-3000:]
    run = run_playbook(role_play(), diff=True, extra_vars=role_vars(conf_dir, livy_impersonation_users=users + ['nb030a']))
    assert run.rc == 0, run.stdout[-3000:]
    diff = run.task('Livy may impersonate the notebook users (core-site.xml)')['diff'][0]
    changed = [line for line in difflib.unified_diff(diff['before'].splitlines(), diff['after'].splitlines(), n=0)
               if line[:1] in '+-' and line[:3] not in ('+++', '---')]
    assert changed == ['+nb030a,'], changed
    assert ','.join(sorted(users + ['nb030a'])) in (conf_dir / 'core-site.xml').read_text()


def test_an_unused_proxyuser_scope_is_removed_in_the_same_single_write(conf_dir):
    core_site = conf_dir / 'core-site.xml'
    core_site.write_text(core_site.read_text().replace(
        '</configuration>',
        '<property><name>hadoop.proxyuser.livy.groups</name><value>*</value></property>\n</configuration>'))
    variables = role_vars(conf_dir, livy_impersonation_backup=True)
    run = run_playbook(role_play(), diff=True, extra_vars=variables)
    assert run.rc == 0, run.stdout + run.stderr
    written = run.task('Livy may impersonate the notebook users (core-site.xml)')
    assert written['changed'] is True
    assert written['properties']['hadoop.proxyuser.livy.groups'] is None
    text = core_site.read_text()
    assert 'hadoop.proxyuser.livy.groups' not in text and '<value>diego,shirley</value>' in text
    # One write: one backup of core-site.xml.
    assert len(list(conf_dir.glob('core-site.xml.*~'))) == 1, sorted(p.name for p in conf_dir.iterdir())
