"""The pre-commit hook for real: `pre-commit try-repo` of this checkout on a temporary repo.

The hook environment is built once per session (pip installs this project into it). The
four scenarios run in CI; set IMPACT_CHECK_SKIP_PRECOMMIT=1 to skip them locally.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from gitrepo import GIT_ENV, GitRepo

ROOT = Path(__file__).parent.parent
BASE = {
    "db/V1__init.sql": "CREATE TABLE raw.orders (id INT, amount DECIMAL(10, 2), note TEXT);\n",
    "views/revenue.sql": "CREATE VIEW mart.revenue AS SELECT SUM(amount) AS total "
    "FROM raw.orders;\n",
    "views/top.sql": "CREATE VIEW mart.top AS SELECT total FROM mart.revenue;\n",
}

# the test's own environment first: pre-commit is a test dependency of this package
PRE_COMMIT = shutil.which("pre-commit", path=os.path.dirname(sys.executable)) or shutil.which(
    "pre-commit"
)
if PRE_COMMIT is None and os.environ.get("CI"):
    raise RuntimeError("pre-commit is not installed (pip install -e '.[test]')")
pytestmark = pytest.mark.skipif(
    PRE_COMMIT is None or os.environ.get("IMPACT_CHECK_SKIP_PRECOMMIT") == "1",
    reason="pre-commit not installed or skipped",
)


@pytest.fixture(scope="session")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed snapshot of this checkout (try-repo needs a repository)."""
    snapshot = tmp_path_factory.mktemp("project")
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(snapshot)], check=True)
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    if status.strip():  # uncommitted work in the checkout: test that, not the last commit
        listed = subprocess.run(
            ["git", "ls-files", "-z", "-co", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for rel in filter(None, listed.split("\0")):
            target = snapshot / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if (ROOT / rel).is_file():
                shutil.copy2(ROOT / rel, target)
        env = {**os.environ, **GIT_ENV}
        subprocess.run(["git", "add", "-A"], cwd=snapshot, check=True, env=env)
        subprocess.run(
            ["git", "commit", "-qm", "wip", "--allow-empty"], cwd=snapshot, check=True, env=env
        )
    return snapshot


@pytest.fixture(scope="session")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def try_repo(repo: GitRepo, project: Path, home: Path, *extra: str) -> tuple[int, str]:
    env = {**os.environ, **GIT_ENV, "PRE_COMMIT_HOME": str(home), "NO_COLOR": "1"}
    proc = subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(project), "impact-check", "--verbose", *extra],
        cwd=repo.root,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "target")
    r.commit(BASE, "base")
    return r


def test_staged_column_drop_fails(repo: GitRepo, project: Path, home: Path) -> None:
    repo.write({"db/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    repo.git("add", "-A")
    code, out = try_repo(repo, project, home)
    assert code == 1, out
    assert "CO201 column-dropped" in out and "mart.revenue" in out


def test_staged_harmless_change_passes(repo: GitRepo, project: Path, home: Path) -> None:
    repo.write({"db/V2__add.sql": "ALTER TABLE raw.orders ADD COLUMN region TEXT;\n"})
    repo.git("add", "-A")
    code, out = try_repo(repo, project, home)
    assert code == 0, out


def test_staged_deletion_of_a_model_fails(repo: GitRepo, project: Path, home: Path) -> None:
    repo.git("rm", "-q", "views/revenue.sql")
    code, out = try_repo(repo, project, home)
    assert code == 1, out
    assert "TB101 table-dropped" in out and "mart.top" in out


def test_pre_push_range(repo: GitRepo, project: Path, home: Path) -> None:
    before = repo.git("rev-parse", "HEAD").strip()
    after = repo.commit({"db/V2__drop.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"})
    code, out = try_repo(
        repo, project, home, "--hook-stage", "pre-push", "--from-ref", before, "--to-ref", after
    )
    assert code == 1, out
    assert "CO201 column-dropped" in out
