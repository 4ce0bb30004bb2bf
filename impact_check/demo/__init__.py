"""``impact-check demo``: a bundled warehouse, a breaking change on a branch, the check."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "impact-check demo",
    "GIT_AUTHOR_EMAIL": "demo@example.com",
    "GIT_COMMITTER_NAME": "impact-check demo",
    "GIT_COMMITTER_EMAIL": "demo@example.com",
}


def _git(repo: Path, *args: str) -> None:
    import os

    env = {**os.environ, **_GIT_ENV}
    subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        env=env,
    )


def build_demo_repo(repo: Path) -> None:
    """Create the demo repository: the warehouse on main, the change on branch ``feature``."""
    data = resources.files("impact_check.demo")
    repo.mkdir(parents=True, exist_ok=True)
    _git(repo, "init", "-q")
    _copy(data / "warehouse", repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Warehouse: raw, staging, marts, ml, reporting")
    _git(repo, "checkout", "-q", "-b", "feature")
    _copy(data / "change", repo)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Drop customers.signup_channel, rename products.category")


def _copy(source: object, target: Path) -> None:
    with resources.as_file(source) as path:  # type: ignore[arg-type]
        shutil.copytree(path, target, dirs_exist_ok=True)


def run_demo(
    run_check: Callable[[list[str]], int], keep: str | None = None, output_format: str = "text"
) -> int:
    """Build the demo repository and run the check on it with ``run_check`` (the command
    line's ``main``, handed in: the demo sits beside the CLI, not under it); 0 when the
    demo ran as designed."""
    workdir = Path(keep) if keep else Path(tempfile.mkdtemp(prefix="impact-check-demo-"))
    try:
        build_demo_repo(workdir)
        if output_format == "text":
            print(
                f"Demo repository: {workdir}\n"
                "  main:    the warehouse (migrations + staging/marts/ml/reporting models)\n"
                "  feature: a migration that drops and renames columns\n"
                "$ impact-check check --base main --head feature\n",
                flush=True,
            )
        import os

        cwd = Path.cwd()
        os.chdir(workdir)
        try:
            code = run_check(
                ["check", "--base", "main", "--head", "feature", "--format", output_format]
            )
        finally:
            os.chdir(cwd)
        if output_format == "text":
            print(
                f"\nThe check exited {code}: in CI this build would be "
                f"{'red' if code == 1 else 'green'}.",
                file=sys.stderr,
            )
        return 0 if code in (0, 1) else code
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
