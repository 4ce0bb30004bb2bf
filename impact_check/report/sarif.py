"""``sarif``: SARIF 2.1.0 for code scanning. Results sit at the changed lines; the consumers
that break are related locations; every rule of the catalogue is described."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from impact_check import __version__
from impact_check.model import Finding, Report, Severity
from impact_check.report.common import consumer_text
from impact_check.rules import RULES

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def to_dict(report: Report) -> dict[str, Any]:
    rules = sorted(RULES.values(), key=lambda r: r.code)
    index = {rule.code: i for i, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "impact-check",
                        "version": __version__,
                        "informationUri": "https://pypi.org/project/impact-check/",
                        "rules": [
                            {
                                "id": rule.code,
                                "name": rule.name,
                                "shortDescription": {"text": rule.summary},
                                "fullDescription": {"text": rule.summary},
                                "help": {"text": rule.help},
                                "defaultConfiguration": {"level": _LEVEL[rule.severity]},
                            }
                            for rule in rules
                        ],
                    }
                },
                "results": [_result(f, index) for f in report.findings],
            }
        ],
    }


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "partialFingerprints": {"impactCheck/v1": _fingerprint(finding)},
    }
    if finding.location is not None:
        result["locations"] = [_location(finding.location.file, finding.location.line)]
    related = [
        {
            **_location(i.file, None),
            "id": n,
            "message": {"text": f"{consumer_text(i)} breaks: {i.reason}"},
        }
        for n, i in enumerate(x for x in finding.impacted if x.breaks and x.file)
    ]
    if related:
        result["relatedLocations"] = related
    if finding.suppressed:
        result["suppressions"] = [{"kind": "external", "justification": finding.suppressed}]
    return result


def _location(file: str | None, line: int | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": file or "."}}
    if line:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def _fingerprint(finding: Finding) -> str:
    target = finding.change.target if finding.change else finding.message
    return hashlib.sha1(f"{finding.rule}|{target}".encode()).hexdigest()[:20]


def render(report: Report) -> str:
    return json.dumps(to_dict(report), indent=2) + "\n"
