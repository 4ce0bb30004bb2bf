"""``gitlab``: Code Climate JSON, as GitLab merge requests show code-quality findings."""

from __future__ import annotations

import hashlib
import json

from impact_check.model import Report, Severity

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}


def render(report: Report) -> str:
    issues = []
    for finding in report.findings:
        if finding.suppressed:
            continue
        target = finding.change.target if finding.change else finding.message
        location = finding.location
        issues.append(
            {
                "type": "issue",
                "check_name": f"{finding.rule} {finding.name}",
                "description": finding.message,
                "categories": ["Bug Risk"],
                "severity": _SEVERITY[finding.severity],
                "fingerprint": hashlib.md5(f"{finding.rule}|{target}".encode()).hexdigest(),
                "location": {
                    "path": location.file if location else ".",
                    "lines": {"begin": (location.line or 1) if location else 1},
                },
            }
        )
    return json.dumps(issues, indent=2) + "\n"
