# -*- coding: utf-8 -*-
# Copyright: datalake.notebooks contributors
# Apache License 2.0 (see LICENSE)
"""A Kerberos ticket from a keytab in a private credential cache, for one module run.

This module_util is private to the datalake.notebooks collection; its API may change at any time.
Plain Python: no Ansible import. `kinit_failure` is pure and unit-tested alone.

The node needs no ticket of its own: `PrivateTicket` runs MIT's `kinit -k -t KEYTAB -c FILE:CACHE
PRINCIPAL` into a mode-700 directory of its own, hands that cache to the backend (E(KRB5CCNAME)
for `hdfs dfs`, explicit credentials for SPNEGO), and removes the directory when the run ends.
"""

from __future__ import annotations

import os
import shutil
import tempfile

# kinit's own words (MIT krb5 error table) -> what they mean for the keytab and principal given.
_KINIT_FAILURES = (
    ('Preauthentication failed',
     'the keytab {keytab} does not hold the current key of {principal}: it is stale (the principal got a '
     'new key, for example from a ktadd without -norandkey, since the keytab was written) or it was '
     'written for another KDC. Export the keytab again'),
    ('Password incorrect',
     'the keytab {keytab} does not hold the current key of {principal}: export the keytab again'),
    ('Keytab contains no suitable keys',
     'the keytab {keytab} has no key for {principal} (klist -k {keytab} lists the principals it holds)'),
    ('not found in Kerberos database',
     '{principal} does not exist in its realm\'s KDC'),
    ("Client's entry in database has expired",
     '{principal} has expired in the KDC (its expiration date is past): the KDC admin has to renew it '
     '(kadmin modprinc -expire)'),
    ('Password has expired',
     'the key of {principal} has expired in the KDC: give it a new key and export the keytab again'),
    ('Clock skew too great',
     'this node\'s clock and the KDC\'s differ by more than the allowed skew (5 minutes by default): '
     'synchronise the clock (chrony or NTP)'),
    ('Cannot find KDC',
     'no KDC is configured for the realm of {principal}: check the [realms] section of krb5.conf '
     '(or KRB5_CONFIG)'),
    ('Cannot contact any KDC',
     'no KDC of the realm of {principal} answered: check the KDC is up and reachable from this node'),
)


class KerberosError(Exception):
    """A ticket could not be had: the message says which input is wrong and what to do."""


def kinit_failure(stderr, principal, keytab):
    """What a failed `kinit -k -t keytab principal` means, from its stderr."""
    said = ' '.join((stderr or '').split())
    for marker, meaning in _KINIT_FAILURES:
        if marker in said:
            return 'kinit as %s failed: %s (kinit: %s).' % (
                principal, meaning.format(principal=principal, keytab=keytab), said)
    return 'kinit as %s with keytab %s failed: %s' % (principal, keytab, said or 'no message')


def keytab_problem(keytab):
    """Why `keytab` cannot be used by this process, or None."""
    if not os.path.exists(keytab):
        return 'kerberos_keytab %s does not exist' % keytab
    if not os.path.isfile(keytab):
        return 'kerberos_keytab %s is not a file' % keytab
    if not os.access(keytab, os.R_OK):
        return 'kerberos_keytab %s is not readable by this user (uid %d)' % (keytab, os.getuid())
    return None


class PrivateTicket(object):
    """`principal`'s ticket from `keytab`, in a cache nobody else uses; `close()` removes it.

    `run_command(argv, environ)` -> (rc, stdout, stderr) is AnsibleModule.run_command in the module.
    """

    def __init__(self, run_command, principal, keytab, kinit_bin='kinit'):
        self._run = run_command
        self.principal = principal
        self.keytab = keytab
        self.kinit_bin = kinit_bin
        self._dir = None
        self.ccache = None

    def acquire(self):
        """Run kinit; returns the cache name (FILE:PATH). Raises KerberosError."""
        problem = keytab_problem(self.keytab)
        if problem:
            raise KerberosError(problem + ': give the path of the keytab of kerberos_principal on this node.')
        self._dir = tempfile.mkdtemp(prefix='datalake-krb5cc-')
        os.chmod(self._dir, 0o700)
        self.ccache = 'FILE:' + os.path.join(self._dir, 'ccache')
        argv = [self.kinit_bin, '-k', '-t', self.keytab, '-c', self.ccache, self.principal]
        try:
            rc, dummy, err = self._run(argv, {'KRB5CCNAME': self.ccache})
        except OSError as exc:
            raise KerberosError('Cannot run %s: %s (install MIT Kerberos\' client tools, krb5-user or '
                                'krb5-workstation, or set kinit_bin)' % (self.kinit_bin, exc))
        if rc != 0:
            raise KerberosError(kinit_failure(err, self.principal, self.keytab))
        return self.ccache

    def close(self):
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None
