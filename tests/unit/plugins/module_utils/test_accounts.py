import subprocess

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._accounts import (
    Account,
    ContainerError,
    Owner,
    PasswdError,
    container_accounts,
    container_name_problem,
    parse_passwd,
    useradd_argv,
    useradd_script,
)

PASSWD = """root:x:0:0:root:/root:/bin/bash
# a comment
+nis-entry::::::
shirley:x:1001:100::/home/shirley:/bin/bash
shirley:x:2002:2002::/elsewhere:/bin/sh

diego:x:1002:1002:Diego,,,:/home/diego:/bin/bash
"""


def test_parse_passwd_first_entry_of_a_name_wins():
    assert parse_passwd(PASSWD) == {'root': Account(0, 0, '/root'), 'shirley': Account(1001, 100, '/home/shirley'),
                                    'diego': Account(1002, 1002, '/home/diego')}
    assert parse_passwd(PASSWD)['shirley'].owner == Owner(1001, 100)


@pytest.mark.parametrize('text', [
    'shirley:x:1001:100:/home/shirley:/bin/bash',       # six fields
    'shirley:x:1001:100::/home/shirley:/bin/bash:x',    # eight
    'shirley:x:uid:100::/home:/bin/sh',
    'shirley:x::100::/home:/bin/sh',
    # int() reads all of these as numbers; the C library and a passwd file do not.
    'shirley:x: 1001:100::/home/shirley:/bin/sh',
    'shirley:x:+1001:100::/home/shirley:/bin/sh',
    'shirley:x:-1:100::/home/shirley:/bin/sh',
    'shirley:x:1_001:100::/home/shirley:/bin/sh',
    'shirley:x:\u0661\u0660\u0660\u0661:100::/home/shirley:/bin/sh',
    'shirley:x:1001:4294967295::/home/shirley:/bin/sh',  # (gid_t) -1, "no change" to chown
])
def test_parse_passwd_refuses_broken_lines(text):
    with pytest.raises(PasswdError, match='line 1'):
        parse_passwd(text)


@pytest.mark.parametrize('separator', ['\f', '\v', '\x1c', '\x1e', '\x85', '\u2028', '\u2029'])
def test_a_gecos_field_with_a_line_separator_of_python_is_one_entry(separator):
    # str.splitlines() breaks lines at these; the C library does not, and a user may put one in
    # their own GECOS field (chfn). The text after it must not be read as an entry of its own.
    text = ('mallory:x:1003:100:Mallory%sshirley:/home/mallory:/bin/bash\n'
            'shirley:x:1001:100::/home/shirley:/bin/bash\n') % separator
    assert parse_passwd(text) == {'mallory': Account(1003, 100, '/home/mallory'),
                                  'shirley': Account(1001, 100, '/home/shirley')}


def test_parse_passwd_takes_crlf_line_ends_and_no_final_newline():
    assert parse_passwd('diego:x:1002:100::/home/diego:/bin/bash\r\nann:x:7:7::/a:/bin/sh') == {
        'diego': Account(1002, 100, '/home/diego'), 'ann': Account(7, 7, '/a')}


def test_names_are_matched_exactly():
    accounts = parse_passwd('shirley :x:0:0::/root:/bin/bash\nShirley:x:0:0::/root:/bin/bash\n')
    assert 'shirley' not in accounts


@pytest.mark.parametrize('name, ok', [('jupyterhub', True), ('dn-master_1.hub', True), ('-jupyterhub', False),
                                      ('.hub', False), ('', False), ('hub name', False), ('hub/x', False),
                                      (None, False)])
def test_container_names(name, ok):
    assert (container_name_problem(name) is None) is ok


def test_container_accounts_reads_one_exec():
    calls = []

    def run(argv):
        calls.append(argv)
        return 0, 'shirley:x:1000:100::/home/shirley:/bin/bash\n', ''
    assert container_accounts(run, 'docker', 'jupyterhub') == {'shirley': Account(1000, 100, '/home/shirley')}
    assert calls == [['docker', 'exec', 'jupyterhub', 'getent', 'passwd']]


@pytest.mark.parametrize('answer, message', [
    ((1, '', 'Error: No such container: jupyterhub\n'), 'exited 1): Error: No such container'),
    ((0, 'shirley:x:1000\n', ''), 'line 1 has 3 fields'),
])
def test_container_accounts_errors_name_the_container(answer, message):
    with pytest.raises(ContainerError, match='container jupyterhub') as caught:
        container_accounts(lambda argv: answer, 'docker', 'jupyterhub')
    assert message in str(caught.value)


def test_useradd_argv_options():
    assert useradd_argv('diego') == ['useradd', '--shell', '/bin/bash', '--create-home', '--user-group', 'diego']
    assert useradd_argv('diego', shell='/bin/sh', create_home=False, home_base='/var/lib/jupyter/home',
                        user_group=False) == ['useradd', '--shell', '/bin/sh', '--no-create-home', '--base-dir',
                                              '/var/lib/jupyter/home', '--no-user-group', 'diego']


def test_useradd_script_quotes_every_argument_and_stops_at_the_first_failure():
    script = useradd_script(['diego', "o'brien"], shell='/bin/my shell')
    lines = script.splitlines()
    assert lines[0] == 'set -eu'
    assert lines[2].endswith("'o'\"'\"'brien'")
    # sh reads back exactly the argv (printf stands in for useradd).
    echoed = subprocess.run(['sh', '-c', script.replace('useradd', 'printf "[%s]"')], capture_output=True,
                            text=True, check=True).stdout
    assert "[--shell][/bin/my shell]" in echoed and "[o'brien]" in echoed
