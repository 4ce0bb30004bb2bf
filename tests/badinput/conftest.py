"""The bad-input corpus: cases are recorded by the ``record_badinput`` fixture of
tests/conftest.py, which prints the counts per input kind in the test summary (the
controller of an xdist run never loads this file)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
