"""Inline suppressions in SQL comments.

    -- impact-check: ignore[CO201] reason: the column is unused since 2026-10
    -- impact-check: ignore-file[TY303,CO203] reason: generated file

``ignore`` applies to the statement holding the comment, or to the next statement when the
comment stands on its own; ``ignore-file`` to the whole file. A reason is required. Malformed
comments and ignores that match nothing are findings themselves (AN907, AN906).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from impact_check.model import Finding, Location
from impact_check.rules import RULES

_MARKER = re.compile(r"(?:--|#|/\*)\s*impact-check:\s*(?P<rest>.*?)\s*(?:\*/)?\s*$")
_DIRECTIVE = re.compile(
    r"^(?P<kind>ignore|ignore-file)\[(?P<rules>[A-Za-z0-9_,\s-]+)\]"
    r"\s*(?:reason:\s*(?P<reason>.*))?$"
)


@dataclass
class InlineIgnore:
    """One parsed ignore comment."""

    file: str
    line: int
    rules: list[str]
    reason: str
    first: int  # lines it covers, inclusive
    last: int
    used: bool = False

    def covers(self, rule: str, name: str, line: int | None) -> bool:
        if rule not in self.rules and name not in self.rules:
            return False
        return line is None or self.first <= line <= self.last


@dataclass
class Malformed:
    """A comment that looks like a suppression but cannot be one."""

    file: str
    line: int
    problem: str


Spans = list[tuple[int, int]]  # (first line, last line) of each statement


def parse_ignores(
    file: str, text: str, spans: Spans, known: Callable[[str], bool]
) -> tuple[list[InlineIgnore], list[Malformed]]:
    """Find the suppressions of one file; ``known`` says whether a rule code or name exists."""
    ignores: list[InlineIgnore] = []
    malformed: list[Malformed] = []
    total = text.count("\n") + 1
    for number, line in enumerate(text.splitlines(), 1):
        match = _MARKER.search(line)
        if match is None:
            continue
        directive = _DIRECTIVE.match(match.group("rest"))
        if directive is None:
            malformed.append(Malformed(file, number, "expected ignore[RULE] reason: …"))
            continue
        rules = [r.strip() for r in directive.group("rules").split(",") if r.strip()]
        reason = (directive.group("reason") or "").strip()
        unknown = [r for r in rules if not known(r)]
        if unknown:
            malformed.append(Malformed(file, number, f"unknown rule {', '.join(unknown)}"))
            continue
        if not reason:
            malformed.append(Malformed(file, number, "a reason is required (reason: …)"))
            continue
        if directive.group("kind") == "ignore-file":
            first, last = 1, total
        else:
            first, last = _statement_at(number, spans)
        ignores.append(InlineIgnore(file, number, rules, reason, first, last))
    return ignores, malformed


def _statement_at(line: int, spans: Spans) -> tuple[int, int]:
    for first, last in spans:
        if first <= line <= last:
            return first, last
    following = [span for span in spans if span[0] > line]
    return min(following) if following else (line, line)


def apply_ignores(
    findings: list[Finding], ignores: list[InlineIgnore], malformed: list[Malformed]
) -> None:
    """Mark the findings an ignore covers as suppressed (in place); AN907 for each
    malformed comment and AN906 for each ignore that matches no finding are added."""
    for bad in malformed:
        message = f"suppression comment ignored: {bad.problem}"
        findings.append(RULES["AN907"].finding(message, Location(bad.file, bad.line)))
    for finding in findings:
        location = finding.location
        if location is None or finding.suppressed:
            continue
        for ignore in ignores:
            if ignore.file == location.file and ignore.covers(
                finding.rule, finding.name, location.line
            ):
                finding.suppressed = (
                    f"inline ignore at {ignore.file}:{ignore.line}: {ignore.reason}"
                )
                ignore.used = True
                break
    for ignore in ignores:
        if not ignore.used:
            message = f"ignore[{','.join(ignore.rules)}] matches no finding"
            findings.append(RULES["AN906"].finding(message, Location(ignore.file, ignore.line)))
