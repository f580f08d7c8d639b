"""Integration fixtures: each real component has its own fixtures_<component>.py beside this file."""

import glob
import os

# Every fixtures_*.py here is a pytest plugin (a session-scoped server and its helpers).
pytest_plugins = sorted(
    'fixtures_' + os.path.basename(path)[len('fixtures_'):-3]
    for path in glob.glob(os.path.join(os.path.dirname(__file__), 'fixtures_*.py'))
)
