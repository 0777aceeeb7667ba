"""Unit tests of the registry's use cases on a fake unit of work: makes this folder's helper module importable."""

import sys
from pathlib import Path

# pytest runs with --import-mode=importlib, which does not put test folders on sys.path; the helper carries a
# service-specific name (registry_fakes) so it cannot clash with another package's.
sys.path.insert(0, str(Path(__file__).parent))
