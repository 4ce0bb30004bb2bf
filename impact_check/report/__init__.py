"""Output formats, one module each, all rendered from the same Report."""

from __future__ import annotations

import importlib

from impact_check.model import Report

FORMATS = ("text", "json", "markdown", "github", "sarif", "junit", "gitlab", "html")


def render(
    report: Report,
    output_format: str,
    colour: bool = False,
    verbose: bool = False,
    fast: bool | None = None,
) -> str:
    """The report in one of FORMATS."""
    if output_format == "text":
        from impact_check.report import text

        return text.render(report, colour=colour, verbose=verbose)
    if output_format == "json":
        from impact_check.report import json_report

        return json_report.render(report, fast=fast)
    module = importlib.import_module(f"impact_check.report.{output_format}")
    return str(module.render(report))
