"""Command line: ``main(argv) -> int``. Exit 0 ok, 1 blocking findings, 2 usage/internal error.

Every flag of ``check`` can also come from an ``IMPACT_CHECK_<FLAG>`` environment variable.
Heavy modules (sqlglot, pydantic) are imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from impact_check import __version__
from impact_check.errors import ImpactCheckError, UsageError

if TYPE_CHECKING:
    from impact_check.config import Config

FORMATS = ("text", "json", "markdown", "github", "sarif", "junit", "gitlab", "html")
TRACE_FORMATS = ("text", "json", "mermaid")


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(f"IMPACT_CHECK_{name}", default)


def _env_list(name: str) -> list[str]:
    raw = str(_env(name, ""))
    return [part.strip() for part in raw.replace("\n", ",").split(",") if part.strip()]


def _env_flag(name: str) -> bool:
    return str(_env(name, "")).lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="impact-check",
        description="Find the downstream consumers a schema change in a git diff breaks.",
    )
    parser.add_argument("--version", action="version", version=f"impact-check {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="check the schema changes of a diff")
    check.add_argument("paths", nargs="*", metavar="PATH", help="restrict the analysed files")
    check.add_argument(
        "--base",
        default=_env("BASE"),
        help="base revision (default: merge-base of HEAD with the default branch)",
    )
    head = check.add_mutually_exclusive_group()
    head.add_argument("--head", default=_env("HEAD"), help="head revision (default: work tree)")
    head.add_argument(
        "--staged",
        action="store_true",
        default=_env_flag("STAGED"),
        help="compare the index with HEAD",
    )
    head.add_argument(
        "--hook",
        action="store_true",
        default=_env_flag("HOOK"),
        help="pre-commit mode: the pushed range, else --staged",
    )
    _common(check)
    check.add_argument("--format", default=_env("FORMAT", "text"), choices=FORMATS)
    check.add_argument(
        "--report",
        action="append",
        metavar="FORMAT[:PATH]",
        default=_env_list("REPORT"),
        help="also write this format (to PATH, else stdout); repeatable",
    )
    check.add_argument("--fail-on", default=_env("FAIL_ON"), choices=("error", "warning", "never"))
    check.add_argument(
        "--strict",
        action="store_true",
        default=_env_flag("STRICT"),
        help="analysis limits (AN rules) are errors",
    )
    check.add_argument(
        "--exit-zero",
        action="store_true",
        default=_env_flag("EXIT_ZERO"),
        help="exit 0 even when the check fails",
    )
    check.add_argument("--verbose", "-v", action="store_true", help="also list info findings")
    check.add_argument(
        "--vars", default=_env("VARS"), metavar="YAML", help="dbt vars, as YAML (like dbt's --vars)"
    )
    check.add_argument(
        "--lineage",
        action="append",
        metavar="KIND:LOCATION",
        default=_env_list("LINEAGE"),
        help="also read this lineage source (openlineage:DIR, marquez:URL, …); repeatable",
    )
    check.add_argument(
        "--offline",
        action="store_true",
        default=_env_flag("OFFLINE"),
        help="no network: lineage sources answer from the cache only",
    )
    check.add_argument(
        "--no-cache", action="store_true", default=_env_flag("NO_CACHE"), help="ignore the cache"
    )
    check.add_argument(
        "--timeout",
        type=float,
        default=_env("TIMEOUT"),
        metavar="SECONDS",
        help="wall-clock budget of the whole check",
    )

    for name, helptext in (
        ("downstream", "trace forward from a node"),
        ("upstream", "trace back from a node"),
    ):
        trace = sub.add_parser(name, help=helptext)
        trace.add_argument("node", help="relation, relation.column or relation#column")
        trace.add_argument("--depth", type=int, default=None, help="dataset hops to follow")
        trace.add_argument("--rev", default=None, help="revision (default: work tree)")
        trace.add_argument("--format", default="text", choices=TRACE_FORMATS)
        _common(trace)

    graph = sub.add_parser("graph", help="print the lineage graph")
    graph.add_argument("--format", default="json", choices=("json", "graphml", "mermaid", "dot"))
    graph.add_argument("--rev", default=None, help="revision (default: work tree)")
    _common(graph)

    rules = sub.add_parser("rules", help="list the rule catalogue")
    rules.add_argument("--format", default="text", choices=("text", "markdown"))
    ci = sub.add_parser("ci", help="run inside a CI system (used by action.yml)")
    ci.add_argument("system", choices=("github",))
    ci.add_argument("--debug", action="store_true", default=_env_flag("DEBUG"))
    demo = sub.add_parser("demo", help="run the check on a bundled example warehouse")
    demo.add_argument("--keep", metavar="DIR", help="build the demo repository in DIR")
    demo.add_argument("--format", default="text", choices=FORMATS)
    return parser


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dialect", default=_env("DIALECT"), help="SQL dialect (default duckdb)")
    parser.add_argument("--config", default=_env("CONFIG"), help="config file")
    parser.add_argument(
        "--debug", action="store_true", default=_env_flag("DEBUG"), help="show tracebacks"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if exit_.code in (0, None) else 2
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _dispatch(args)
    except ImpactCheckError as err:
        if getattr(args, "debug", False):
            _print_traceback()
        hint = f" (hint: {err.hint})" if err.hint else ""
        print(f"impact-check: error: {err}{hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("impact-check: interrupted", file=sys.stderr)
        return 2
    except Exception as err:  # a bug: one line, the traceback only on request
        if getattr(args, "debug", False):
            _print_traceback()
        print(
            f"impact-check: internal error: {type(err).__name__}: {err} "
            "(run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 2


def _print_traceback() -> None:
    import traceback  # imported here: only --debug prints one

    traceback.print_exc()


def main_entry() -> None:
    """Console-script entry point."""
    from impact_check import startup

    startup.pause()  # no cyclic GC while the command starts (startup.py)
    code = main()
    startup.exiting()
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command != "check":  # check resumes it once its imports are done (check.py)
        from impact_check import startup

        startup.resume()
    if args.command == "rules":
        return _rules(args.format)
    if args.command == "demo":
        from impact_check.demo import run_demo

        return run_demo(main, keep=args.keep, output_format=args.format)
    if args.command == "check":
        return _check(args)
    if args.command == "ci":
        from impact_check.github.ci import run

        return run()
    if args.command in ("downstream", "upstream"):
        from impact_check.trace import trace

        root, config = _setup(args)
        print(
            trace(
                root,
                config,
                args.node,
                args.command == "downstream",
                args.depth,
                args.rev,
                args.format,
            ),
            end="",
        )
        return 0
    if args.command == "graph":
        from impact_check.trace import render_graph

        root, config = _setup(args)
        print(render_graph(root, config, args.rev, args.format), end="")
        return 0
    raise UsageError(f"unknown command {args.command!r}")


def _setup(args: argparse.Namespace) -> tuple[Path, Config]:
    from impact_check import git
    from impact_check.config import load_config

    root = git.repo_root(Path.cwd())
    config = load_config(root, Path(args.config) if args.config else None)
    if args.dialect:
        config.dialect = args.dialect
    _check_dialects(config)
    return root, config


def _check_dialects(config: Config) -> None:
    from impact_check.errors import ConfigError

    for dialect in [config.dialect, *config.dialects.values()]:
        if _bundled_dialect(dialect):
            continue  # known without importing sqlglot (a diff without SQL never needs it)
        from impact_check.sql.parse import check_dialect

        try:
            check_dialect(dialect)
        except ValueError as err:
            raise ConfigError(f"{err} (see sqlglot's dialect list)") from err


def _bundled_dialect(dialect: str) -> bool:
    """Whether ``dialect`` names a module of sqlglot's ``dialects`` package (on disk)."""
    import importlib.util

    name = dialect.split(",", 1)[0].strip().lower()
    if not name.isidentifier() or name.startswith("_") or name == "dialect":
        return False
    spec = importlib.util.find_spec("sqlglot")
    return any(
        (Path(folder) / "dialects" / f"{name}.py").is_file()
        for folder in (spec.submodule_search_locations or [] if spec else [])
    )


def _check(args: argparse.Namespace) -> int:
    from impact_check.check import check, resolve_revisions

    root, config = _setup(args)
    if args.fail_on:
        config.fail_on = args.fail_on
    if args.vars:
        config.dbt.vars.update(_vars(args.vars))
    if args.strict:
        config.strict = True
    _apply_source_flags(args, config)
    revisions = resolve_revisions(root, args.base, args.head, args.staged, args.hook)
    reports = [_report_spec(spec) for spec in args.report]  # validate before the work
    report, _graph = check(root, revisions, config, args.paths or None)
    print(_render(report, args.format, args.verbose), end="")
    for output_format, path in reports:
        text = _render(report, output_format, args.verbose)
        if path is None:
            print(text, end="")
        else:
            _write(Path(path), text)
    if args.exit_zero:
        return 0
    return 1 if report.failed else 0


def _apply_source_flags(args: argparse.Namespace, config: Config) -> None:
    from impact_check.config import parse_lineage_flag

    config.lineage += [parse_lineage_flag(spec) for spec in args.lineage]
    if args.offline:
        config.offline = True
    if args.no_cache:
        config.cache = False
    if args.timeout is not None:
        config.timeout = float(args.timeout)


def _render(report: Any, output_format: str, verbose: bool = False) -> str:
    from impact_check.report import render

    colour = output_format == "text" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    return render(report, output_format, colour=colour, verbose=verbose, fast=_fast())


def _vars(text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise UsageError(f"--vars is not valid YAML: {str(err).splitlines()[0]}") from err
    if not isinstance(data, dict):
        raise UsageError("--vars must be a YAML mapping, e.g. --vars '{start_date: 2026-01-01}'")
    return data


def _report_spec(spec: str) -> tuple[str, str | None]:
    output_format, _, path = spec.partition(":")
    if output_format not in FORMATS:
        raise UsageError(
            f"--report {spec}: unknown format {output_format!r} (one of {', '.join(FORMATS)})"
        )
    return output_format, path or None


def _write(path: Path, text: str) -> None:
    from impact_check.atomic import write_text

    try:
        write_text(path, text)
    except OSError as err:
        raise UsageError(f"cannot write report {path}: {err.strerror}") from err


def _fast() -> bool:
    """Whether sqlglot's compiled build (the ``fast`` extra, sqlglot[c]) is what runs.

    Answered without importing sqlglot when the check did not need it (a diff without SQL).
    """
    loaded = sys.modules.get("sqlglot.tokens")
    if loaded is not None:
        return bool(getattr(loaded, "SQLGLOTC_INSTALLED", False))
    import importlib.util

    spec = importlib.util.find_spec("sqlglot")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        if any(Path(folder).glob("tokenizer_core*.so")) or any(
            Path(folder).glob("tokenizer_core*.pyd")
        ):
            return True
    return False


def _rules(fmt: str) -> int:
    from impact_check.rules import render

    print(render.markdown() if fmt == "markdown" else render.text(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
