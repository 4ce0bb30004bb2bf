"""``python -m impact_check``."""

from __future__ import annotations

from impact_check.cli import main_entry

main_entry()
