"""Severities, suppressions and the verdict.

Severity follows consumers (DESIGN.md, Verdict semantics): a breaking-kind change is an
error when a consumer breaks, a warning otherwise. Config may raise a rule's severity, never
lower a breaking one: silencing a break takes an ignore entry with a reason.
"""

from __future__ import annotations

import datetime as dt
import fnmatch

from impact_check.config import Config, Ignore
from impact_check.model import Finding, Location, Report, Severity
from impact_check.rules import RULES, Rule

# Presets are a ladder (buf's): contract ⊂ consumer (default) ⊂ strict.
_STRICT_ERRORS = {"RS502", "RS503"}
_ANALYSIS_LIMITS = {"DQ819"}  # limits of the analysis outside the AN family (files not read)


def severity_for(rule: Rule, finding: Finding, config: Config) -> Severity | None:
    """The severity of a finding after consumer escalation and config; None = rule is off."""
    severity = rule.severity
    family = rule.code[:2]
    if config.preset == "contract" and family in ("RS", "VL"):
        return None  # the contract preset checks schemas only (dbt/datacontract parity)
    if config.preset == "strict" and rule.code in _STRICT_ERRORS:
        severity = Severity.ERROR
    if family in ("RS", "VL") and not finding.impacted:
        severity = Severity.INFO  # a row or value change nobody reads
    if finding.floor is not None and finding.floor.rank > severity.rank:
        severity = finding.floor
    if rule.breaking and finding.breaking:
        severity = Severity.ERROR
    if finding.ceiling is not None and severity.rank > finding.ceiling.rank:
        severity = finding.ceiling
    limit = family == "AN" or rule.code in _ANALYSIS_LIMITS
    if limit and (config.strict or config.preset == "strict"):
        severity = Severity.ERROR
    configured = config.rules.get(rule.code)
    if configured == "off":
        return None if not finding.breaking else severity
    if configured is not None:
        wanted = Severity(configured)
        if wanted.rank > severity.rank or not finding.breaking:
            severity = wanted
    return severity


def apply_policy(
    findings: list[Finding], config: Config, today: dt.date | None = None
) -> list[Finding]:
    """Set severities, drop rules turned off, mark suppressed findings, report bad ignores."""
    today = today or dt.date.today()
    kept: list[Finding] = []
    for finding in findings:
        severity = severity_for(RULES[finding.rule], finding, config)
        if severity is None:
            continue
        finding.severity = severity
        kept.append(finding)
    used: set[int] = set()
    for finding in kept:
        for index, ignore in enumerate(config.ignores):
            if _expired(ignore, today) or not _matches(ignore, finding):
                continue
            finding.suppressed = f"ignored by config: {ignore.reason}"
            used.add(index)
            break
    kept += _ignore_findings(config, used, today)
    return kept


def _matches(ignore: Ignore, finding: Finding) -> bool:
    if not fnmatch.fnmatchcase(finding.rule, ignore.rule) and ignore.rule != finding.name:
        return False
    targets = [finding.change.target, finding.change.dataset] if finding.change else []
    if finding.location is not None:
        targets.append(finding.location.file)
    return any(fnmatch.fnmatchcase(t, ignore.object) for t in targets)


def _expired(ignore: Ignore, today: dt.date) -> bool:
    return ignore.expires is not None and ignore.expires < today


def _ignore_findings(config: Config, used: set[int], today: dt.date) -> list[Finding]:
    rule = RULES["AN906"]
    out = []
    for index, ignore in enumerate(config.ignores):
        if _expired(ignore, today):
            why = f"expired on {ignore.expires}"
        elif index not in used:
            why = "matches no finding"
        else:
            continue
        message = f"ignore #{index + 1} ({ignore.rule} on {ignore.object!r}) {why}"
        out.append(rule.finding(message, Location("impact-check config")))
    return out


def failed(findings: list[Finding], fail_on: str) -> bool:
    """The verdict: an unsuppressed finding at or above ``fail_on``."""
    if fail_on == "never":
        return False
    threshold = Severity(fail_on).rank
    return any(f.suppressed is None and f.severity.rank >= threshold for f in findings)


def finish(report: Report, config: Config) -> Report:
    """Apply the policy and decide the verdict."""
    report.findings = apply_policy(report.findings, config)
    report.failed = failed(report.findings, config.fail_on)
    report.fail_on = config.fail_on
    return report
