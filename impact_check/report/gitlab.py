"""``gitlab``: Code Climate JSON, as GitLab merge requests show code-quality findings."""

from __future__ import annotations

import hashlib
import json

from impact_check.model import Finding, Report, Severity
from impact_check.report.common import consumer_text

_SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "minor", Severity.INFO: "info"}


def _description(finding: Finding) -> str:
    broken = [consumer_text(i) for i in finding.impacted if i.breaks and not i.preexisting]
    return finding.message + (f". Breaks: {'; '.join(broken)}" if broken else "")


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
                "description": _description(finding),
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
