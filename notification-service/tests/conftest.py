"""Test setup of the notification service: makes this folder's helper modules importable."""

import sys
from pathlib import Path

# pytest runs with --import-mode=importlib, which does not put test folders on sys.path; the helpers carry
# service-specific names (notification_*) so they cannot clash with another package's.
sys.path.insert(0, str(Path(__file__).parent))
