"""A real git repository in a temporary directory, and a way to run the CLI inside it."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from impact_check.cli import main

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent",
}


class GitRepo:
    """A throwaway repository: write files, commit, branch, run ``impact-check`` in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        env = {**os.environ, **GIT_ENV}
        proc = subprocess.run(
            ["git", "-c", "commit.gpgsign=false", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        return proc.stdout

    def write(self, files: dict[str, str | bytes | None]) -> None:
        """Write (or with None, delete) files relative to the root."""
        for rel, content in files.items():
            path = self.root / rel
            if content is None:
                if path.exists():
                    path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)

    def commit(
        self, files: dict[str, str | bytes | None] | None = None, message: str = "change"
    ) -> str:
        if files:
            self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def run(self, *argv: str) -> tuple[int, str, str]:
        """Run the CLI in-process in this repository: (exit code, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        with _cwd(self.root), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        return code, out.getvalue(), err.getvalue()

    def report(self, *argv: str) -> tuple[int, dict[str, Any]]:
        """Run ``check --format json`` and parse the report."""
        code, out, err = self.run("check", "--format", "json", *argv)
        assert code in (0, 1), f"exit {code}: {err}"
        return code, json.loads(out)


@contextlib.contextmanager
def _cwd(path: Path) -> Iterator[None]:
    old = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def broken_nodes(report: dict[str, Any]) -> set[str]:
    """Consumers the report says break because of the diff (not already broken at base)."""
    nodes = {
        i["node"]["id"]
        for f in report["findings"]
        for i in f["impacted"]
        if i["breaks"] and not i.get("preexisting")
    }
    nodes |= {  # a changed definition that no longer binds is the finding's own subject
        f["message"].split(" ", 1)[0] for f in report["findings"] if f["rule"] == "TB108"
    }
    nodes |= {  # a migration that fails on deploy (TB109/TB110)
        f"deploy:{f['location']['file']}"
        for f in report["findings"]
        if f["rule"] in ("TB109", "TB110") and not f.get("suppressed")
    }
    return nodes


def finding(report: dict[str, Any], rule: str) -> dict[str, Any]:
    hits = [f for f in report["findings"] if f["rule"] == rule]
    assert hits, f"no {rule} finding in {[f['rule'] for f in report['findings']]}"
    return hits[0]
