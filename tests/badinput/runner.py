"""The bad-input corpus runner: one directory per input kind, one YAML file per case.

``<kind>/kind.yml`` holds what every case of the kind starts from (``base`` files committed
on main, default ``args``, how the input reaches the checker); ``<kind>/<case>.yml`` holds
the case: ``head`` files (text, or a content spec: ``{text, encoding, newline}``,
``{repeat, times, prefix, suffix}``, ``{base64}``; null deletes), git ``ops`` (symlink,
chmod, rename, submodule) and ``expect``: a finding with file:line, an ``unanalyzed``
entry with a reason, or exit 2 with one clear line (``error``). ``outcome: pass`` is only
for cases whose truth is "nothing changed" and must say why.

Each case runs through the real CLI in a subprocess on a real git repository, with a time
limit: a traceback, an internal error, a hang or an unexpected silent pass fails it.
Source payloads (OpenLineage, Marquez, …) are added the same way: a directory with a
kind.yml whose ``lineage`` names the source and cases whose head holds the payload.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).parent
REPO_ROOT = HERE.parent.parent
CASE_TIMEOUT = 120.0  # seconds: a hang fails the case instead of the whole run


@dataclass
class Case:
    kind: str
    name: str
    spec: dict[str, Any]
    kind_spec: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"


def load_cases() -> list[Case]:
    cases = []
    for kind_file in sorted(HERE.glob("*/kind.yml")):
        kind_spec = yaml.safe_load(kind_file.read_text()) or {}
        for path in sorted(kind_file.parent.glob("*.yml")):
            if path.name != "kind.yml":
                spec = yaml.safe_load(path.read_text())
                cases.append(Case(kind_file.parent.name, path.stem, spec, kind_spec))
    return cases


def content(spec: Any) -> bytes | None:
    """The bytes a head/base file spec describes."""
    if spec is None or isinstance(spec, bytes):
        return spec
    if isinstance(spec, str):
        return spec.encode("utf-8")
    if "base64" in spec:
        return base64.b64decode(spec["base64"])
    if "repeat" in spec:
        text = spec.get("prefix", "") + spec["repeat"] * int(spec["times"]) + spec.get("suffix", "")
    else:
        text = spec["text"]
    if spec.get("newline") == "crlf":
        text = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return text.encode(spec.get("encoding", "utf-8"))


def _git(root: Path, *args: str, env: dict[str, str]) -> str:
    return subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _write(root: Path, files: dict[str, Any]) -> None:
    for rel, spec in files.items():
        path = root / rel
        data = content(spec)
        if data is None:
            if path.exists() or path.is_symlink():
                path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _ops(root: Path, ops: list[dict[str, Any]], env: dict[str, str]) -> None:
    for op in ops:
        if "symlink" in op:
            link = root / op["symlink"]["path"]
            if link.exists() or link.is_symlink():
                link.unlink()
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(op["symlink"]["target"])
        elif "chmod" in op:
            _git(root, "add", op["chmod"]["path"], env=env)
            _git(
                root, "update-index", "--chmod=" + op["chmod"]["mode"], op["chmod"]["path"], env=env
            )
        elif "rename" in op:
            _git(root, "mv", op["rename"]["from"], op["rename"]["to"], env=env)
        elif "submodule" in op:  # a gitlink entry, as `git submodule add` records it
            sha = "1" * 40
            _git(
                root,
                "update-index",
                "--add",
                "--cacheinfo",
                f"160000,{sha},{op['submodule']}",
                env=env,
            )
        else:
            raise ValueError(f"unknown op {op}")


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    seconds: float
    report: dict[str, Any] | None


def run_case(case: Case, tmp: Path) -> Outcome:
    """Build the repository, run the CLI, return what it did."""
    from gitrepo import GIT_ENV

    env = {**os.environ, **GIT_ENV}
    root = tmp / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main", env=env)
    _write(root, {**case.kind_spec.get("base", {}), **case.spec.get("base", {})})
    _git(root, "add", "-A", env=env)
    _git(root, "commit", "-q", "--allow-empty", "-m", "base", env=env)
    _git(root, "checkout", "-q", "-b", "feature", env=env)
    _write(root, case.spec.get("head", {}))
    _git(root, "add", "-A", env=env)
    ops = case.spec.get("ops", [])
    _ops(root, [op for op in ops if "submodule" not in op], env)
    _git(root, "add", "-A", env=env)
    _ops(root, [op for op in ops if "submodule" in op], env)  # `add -A` would drop a gitlink
    _git(root, "commit", "-q", "--allow-empty", "-m", "head", env=env)
    mode = case.spec.get("mode", case.kind_spec.get("mode", "check"))
    run_env = {k: v for k, v in env.items() if not k.startswith(("IMPACT_CHECK_", "GITHUB_"))}
    run_env["PYTHONPATH"] = str(REPO_ROOT)
    if mode == "ci-github":
        argv = ["ci", "github"]
        event = tmp / "event.json"
        event.write_bytes(content(case.spec["event"]) or b"")
        run_env.update(
            GITHUB_EVENT_NAME=case.spec.get("event_name", "pull_request"),
            GITHUB_EVENT_PATH=str(event),
            GITHUB_WORKSPACE=str(root),
            IMPACT_CHECK_COMMENT="false",
            IMPACT_CHECK_SUMMARY="false",
            IMPACT_CHECK_REPORT_JSON=str(tmp / "report.json"),
            IMPACT_CHECK_SARIF=str(tmp / "report.sarif"),
        )
    else:
        argv = ["check", "--base", "main", "--head", "feature", "--format", "json"]
        argv += [*case.kind_spec.get("args", []), *case.spec.get("args", [])]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "impact_check.cli", *argv],
        cwd=root,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=CASE_TIMEOUT,
        check=False,
    )
    seconds = time.perf_counter() - started
    report = None
    if mode == "check" and proc.returncode in (0, 1):
        report = json.loads(proc.stdout)
    elif mode == "ci-github" and (tmp / "report.json").is_file():
        report = json.loads((tmp / "report.json").read_text())
    return Outcome(proc.returncode, proc.stdout, proc.stderr, seconds, report)
