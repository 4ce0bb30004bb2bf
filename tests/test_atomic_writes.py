"""A run killed mid-write leaves the old report or the complete new one, never half a file.

The child processes are killed with SIGKILL (nothing gets to clean up), while the temporary
file is being written; a plain ``write_text`` killed the same way is shown to leave a
truncated file, so the test can tell the two apart.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gitrepo import GitRepo

REPO = Path(__file__).parent.parent
SIZE = 200_000_000  # big enough that the write takes a while, small enough for CI


def _writer(target: Path, atomic: bool) -> subprocess.Popen[bytes]:
    code = (
        "import sys; from pathlib import Path\n"
        "from impact_check.atomic import write_text\n"
        f"text = 'x' * {SIZE}\n"
        f"path = Path({str(target)!r})\n"
        + ("write_text(path, text)\n" if atomic else "path.write_text(text)\n")
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code], env=env)


def _kill_when(proc: subprocess.Popen[bytes], ready: object) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():  # type: ignore[operator]
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.0005)
    proc.wait()
    return False


def test_killed_atomic_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"old": true}')
    proc = _writer(target, atomic=True)
    killed = _kill_when(
        proc, lambda: any(p.stat().st_size > 0 for p in tmp_path.glob(".report.json.*.tmp"))
    )
    assert killed, "the writer finished before it could be killed"
    assert target.read_text() == '{"old": true}'  # the temp file may remain; the report not


def test_a_plain_write_killed_the_same_way_is_truncated(tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"old": true}')
    proc = _writer(target, atomic=False)
    killed = _kill_when(proc, lambda: 0 < target.stat().st_size < SIZE)
    assert killed
    assert 0 < target.stat().st_size < SIZE  # the hazard the atomic write removes


@pytest.mark.parametrize("delay", [0.3, 0.6, 0.9, 1.2, 1.5])
def test_cli_killed_at_any_point_leaves_old_or_complete_reports(
    tmp_path: Path, delay: float
) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"db/V1.sql": "CREATE TABLE raw.t (id INT, a INT);\n"}, "base")
    repo.git("checkout", "-q", "-b", "feature")
    views = {
        f"views/v{i}.sql": f"CREATE VIEW m.v{i} AS SELECT id, a FROM raw.t;\n" for i in range(60)
    }
    repo.commit({**views, "db/V2.sql": "ALTER TABLE raw.t DROP COLUMN a;\n"}, "head")
    out = tmp_path / "out"
    out.mkdir()
    for name in ("r.json", "r.sarif", "r.md"):
        (out / name).write_text("old")
    argv = [
        sys.executable, "-m", "impact_check.cli", "check", "--base", "main", "--head", "feature",
        "--format", "text", "--report", f"json:{out}/r.json", "--report", f"sarif:{out}/r.sarif",
        "--report", f"markdown:{out}/r.md",
    ]  # fmt: skip
    proc = subprocess.Popen(
        argv, cwd=repo.root, env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.DEVNULL
    )
    time.sleep(delay)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()
    for name in ("r.json", "r.sarif"):
        text = (out / name).read_text()
        assert text == "old" or json.loads(text), f"{name} is neither old nor complete"
    md = (out / "r.md").read_text()
    assert md == "old" or "impact-check" in md.splitlines()[0]


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_reports_get_the_users_umask(tmp_path: Path, umask: int) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"db/V1.sql": "CREATE TABLE raw.t (id INT, a INT);\n"}, "base")
    repo.commit({"db/V2.sql": "ALTER TABLE raw.t DROP COLUMN a;\n"}, "head")
    out = tmp_path / "out"
    code = (
        f"import os, sys; os.umask({umask}); from impact_check.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    argv = [
        sys.executable, "-c", code, "check", "--base", "HEAD~1", "--head", "HEAD",
        "--report", f"json:{out}/r.json", "--report", f"markdown:{out}/r.md",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run(argv, cwd=repo.root, env=env, stdout=subprocess.DEVNULL, check=False)
    for name in ("r.json", "r.md"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name


def test_a_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    from impact_check.atomic import write_text

    target = tmp_path / "report.md"
    target.write_text("old")
    target.chmod(0o640)
    write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
