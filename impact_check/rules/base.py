"""The shape of a rule: a stable code, a slug, a default severity and help text."""

from __future__ import annotations

from dataclasses import dataclass

from impact_check.model import Change, Finding, Impact, Location, Severity


@dataclass(frozen=True)
class Rule:
    """One entry of the rule catalogue.

    ``breaking`` rules take their severity from consumers: error when one breaks (or the
    object promises a schema), otherwise ``severity`` (a warning).
    """

    code: str
    name: str
    severity: Severity
    summary: str
    help: str
    breaking: bool = False

    def finding(
        self,
        message: str,
        location: Location | None = None,
        change: Change | None = None,
        impacted: list[Impact] | None = None,
    ) -> Finding:
        """A finding of this rule at its default severity (policy.py adjusts it)."""
        return Finding(
            rule=self.code,
            name=self.name,
            severity=self.severity,
            message=message,
            change=change,
            location=location,
            impacted=impacted or [],
            help=self.help,
        )
