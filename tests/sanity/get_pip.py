"""pip bootstrap for ansible-test's virtualenvs, from the interpreter's own ensurepip and PyPI.

ansible-test fetches its get-pip script from a host outside the package registries; its error
message says the script may be saved to its cache instead, which tests/stages/sanity does with
this file. Called as get-pip.py would be: the arguments are pip install arguments.
"""

from __future__ import annotations

import subprocess
import sys


def main():
    subprocess.check_call([sys.executable, '-m', 'ensurepip', '--default-pip'], stdout=subprocess.DEVNULL)
    # --no-setuptools / --no-wheel are get-pip's own options, not pip's.
    args = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
    return subprocess.call([sys.executable, '-m', 'pip', 'install', '--upgrade'] + args)


if __name__ == '__main__':
    sys.exit(main())
