import os

import pytest

from ansible_collections.datalake.notebooks.plugins.module_utils._kerberos import (
    KerberosError,
    PrivateTicket,
    keytab_problem,
    kinit_failure,
)

PRINCIPAL = 'hdfs/nn.example.com@EXAMPLE.COM'
KEYTAB = '/etc/security/keytabs/hdfs.keytab'


# kinit's stderr as MIT krb5 1.20 prints it (seen against the rig's KDC) -> words of the meaning.
@pytest.mark.parametrize('stderr, meaning', [
    ('kinit: Preauthentication failed while getting initial credentials', 'stale'),
    ('kinit: Password incorrect while getting initial credentials', 'current key'),
    ('kinit: Keytab contains no suitable keys for hdfs/nn.example.com@EXAMPLE.COM while getting initial '
     'credentials', 'has no key for'),
    ("kinit: Client 'hdfs/nn.example.com@EXAMPLE.COM' not found in Kerberos database while getting "
     'initial credentials', 'does not exist'),
    ("kinit: Client's entry in database has expired while getting initial credentials", 'has expired in the KDC'),
    ('kinit: Password has expired while getting initial credentials', 'key of'),
    ('kinit: Clock skew too great while getting initial credentials', 'synchronise the clock'),
    ('kinit: Cannot find KDC for realm "EXAMPLE.COM" while getting initial credentials', '[realms]'),
    ('kinit: Cannot contact any KDC for realm \'EXAMPLE.COM\' while getting initial credentials',
     'answered'),
])
def test_kinit_failures_say_what_is_wrong(stderr, meaning):
    message = kinit_failure(stderr, PRINCIPAL, KEYTAB)
    assert meaning in message
    assert message.startswith('kinit as %s failed' % PRINCIPAL)
    # kinit's own words stay, for a search.
    assert stderr.split(': ', 1)[1].split(' while')[0] in message


def test_an_unknown_kinit_failure_is_quoted():
    assert kinit_failure('kinit: something new\n', PRINCIPAL, KEYTAB) == \
        'kinit as %s with keytab %s failed: kinit: something new' % (PRINCIPAL, KEYTAB)


def test_keytab_problems(tmp_path):
    assert 'does not exist' in keytab_problem(str(tmp_path / 'missing.keytab'))
    assert 'is not a file' in keytab_problem(str(tmp_path))
    keytab = tmp_path / 'ok.keytab'
    keytab.write_bytes(b'\x05\x02')
    assert keytab_problem(str(keytab)) is None


def test_the_private_cache_is_a_fresh_private_directory_and_goes_away(tmp_path):
    keytab = tmp_path / 'hdfs.keytab'
    keytab.write_bytes(b'\x05\x02')
    seen = {}

    def run(argv, environ):
        path = argv[argv.index('-c') + 1][len('FILE:'):]
        seen.update(argv=argv, environ=environ, mode=os.stat(os.path.dirname(path)).st_mode & 0o777)
        open(path, 'w').close()
        return 0, '', ''

    ticket = PrivateTicket(run, PRINCIPAL, str(keytab), kinit_bin='/usr/bin/kinit')
    ccache = ticket.acquire()
    assert seen['argv'] == ['/usr/bin/kinit', '-k', '-t', str(keytab), '-c', ccache, PRINCIPAL]
    assert seen['environ'] == {'KRB5CCNAME': ccache}
    assert seen['mode'] == 0o700
    ticket.close()
    assert not os.path.exists(os.path.dirname(ccache[len('FILE:'):]))


def test_a_failed_kinit_raises_with_the_meaning(tmp_path):
    keytab = tmp_path / 'hdfs.keytab'
    keytab.write_bytes(b'\x05\x02')
    said = 'kinit: Preauthentication failed while getting initial credentials'
    ticket = PrivateTicket(lambda argv, environ: (1, '', said), PRINCIPAL, str(keytab))
    with pytest.raises(KerberosError, match='stale'):
        ticket.acquire()
    ticket.close()
