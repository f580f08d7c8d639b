import subprocess

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._accounts import (
    Owner,
    PasswdError,
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
    assert parse_passwd(PASSWD) == {'root': Owner(0, 0), 'shirley': Owner(1001, 100), 'diego': Owner(1002, 1002)}


@pytest.mark.parametrize('text', ['shirley:x:1001:100:/home/shirley:/bin/bash', 'shirley:x:uid:100::/home:/bin/sh'])
def test_parse_passwd_refuses_broken_lines(text):
    with pytest.raises(PasswdError, match='line 1'):
        parse_passwd(text)


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
