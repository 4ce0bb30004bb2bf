"""Blob bytes read when something reads them (issue 16): a warm pre-commit run costs git
what the change costs, not what the repository holds. Real repositories, and what git was
really asked (objects made unreadable, GIT_TRACE), never a mocked client."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check import git
from impact_check.model import FileContent, Snapshot

MODELS = 40  # past git._READ_AT_ONCE: a revision's blobs are looked up, not read


def _model(i: int, note: str = "") -> str:
    upstream = f"select * from analytics.raw.src_{i % 3}" if i < 3 else f"select * from m{i - 3}"
    return f"{note}{upstream}\n"


@pytest.fixture
def project(tmp_path: Path) -> GitRepo:
    repo = GitRepo(tmp_path / "repo")
    files: dict[str, str | bytes | None] = {
        ".impact-check.yml": "default_database: analytics\nmodels: [models]\n",
        "db/V1__raw.sql": "".join(
            f"CREATE TABLE raw.src_{i} (id INT, amount INT, note TEXT);\n" for i in range(3)
        ),
    }
    files.update({f"models/m{i}.sql": _model(i) for i in range(MODELS)})
    repo.commit(files, "base")
    return repo


def _stage(repo: GitRepo, run: int) -> list[str]:
    """Edit (a comment naming the run) and stage three models: never in the cache."""
    edited = [f"models/m{i}.sql" for i in (5, 17, 30)]
    repo.git("reset", "-q", "--hard", "HEAD")
    repo.write({path: _model(int(Path(path).stem[1:]), f"-- edit {run}\n") for path in edited})
    repo.git("add", "-A")
    return edited


def _report(repo: GitRepo, *argv: str) -> dict[str, Any]:
    code, report = repo.report("--staged", *argv)
    report.pop("elapsed_ms", None)
    report.get("summary", {}).pop("elapsed_ms", None)
    return {"code": code, **json.loads(json.dumps(report))}


def _unreadable(repo: GitRepo, paths: list[str]) -> None:
    """Corrupt the (loose) objects of ``paths`` at HEAD: git can still tell they exist,
    reading one fails."""
    for path in paths:
        sha = repo.git("rev-parse", f"HEAD:{path}").strip()
        loose = repo.root / ".git" / "objects" / sha[:2] / sha[2:]
        loose.chmod(0o644)
        loose.write_bytes(b"not a zlib stream")


def test_a_warm_staged_check_never_reads_the_unchanged_files(project: GitRepo) -> None:
    _stage(project, 1)
    _report(project)  # fills the cache with the base
    edited = _stage(project, 2)
    expected = _report(project, "--no-cache")
    unchanged = [f"models/m{i}.sql" for i in range(MODELS) if f"models/m{i}.sql" not in edited]
    _unreadable(project, unchanged)
    with pytest.raises(subprocess.CalledProcessError):  # the objects really are unreadable
        project.git("cat-file", "blob", f"HEAD:{unchanged[0]}")
    assert _report(project) == expected


def _calls(trace: Path) -> list[str]:
    """The git commands GIT_TRACE recorded: ``subcommand first-option``."""
    calls = []
    for line in trace.read_text().splitlines():
        _, found, command = line.partition("trace: built-in: git ")
        if found:
            words = command.replace("'", "").split()
            while words[0] == "-c":  # -c key=value
                words = words[2:]
            calls.append(" ".join(words[:2]))
    return calls


def test_a_warm_staged_check_asks_git_little(
    project: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _stage(project, 1)
    _report(project)
    _stage(project, 2)
    trace = tmp_path / "trace.txt"
    monkeypatch.setenv("GIT_TRACE", str(trace))
    _report(project)
    calls = Counter(_calls(trace))
    assert calls["log --format=%B"] == 0  # base is HEAD: no commit in the range
    assert calls["config --get-regexp"] == 1  # the promisor remote, asked once per check
    assert calls["cat-file --batch"] == 1  # both revisions read from one git
    assert calls["cat-file --batch-check=%(objectname)"] == 1  # the base's blobs looked up
    assert calls["rev-parse --git-path"] == 1  # checked out, and HEAD's commit, at once
    assert sum(calls.values()) <= 8, calls  # 12 before issue 16


def _lazy(repo: GitRepo) -> Snapshot:
    snap = git.snapshot(repo.root, "HEAD")
    assert all(c._load is not None for c in snap.files.values() if c.sha)  # nothing read yet
    return snap


_FORKED: Snapshot | None = None


def _read_in_worker(path: str) -> bytes | None:
    assert _FORKED is not None
    return _FORKED.files[path].data


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)
def test_forked_workers_read_blobs_with_a_git_of_their_own(project: GitRepo) -> None:
    """A worker forked while the parent's git is open never writes to its pipes."""
    global _FORKED
    snap = _FORKED = _lazy(project)
    assert snap.files["models/m0.sql"].data == _model(0).encode()  # the parent's git is open
    paths = [f"models/m{i}.sql" for i in range(1, 12)]
    try:
        with multiprocessing.get_context("fork").Pool(2) as pool:
            read = pool.map(_read_in_worker, paths)
    finally:
        _FORKED = None
    assert read == [_model(i).encode() for i in range(1, 12)]
    assert [snap.files[p].data for p in paths] == read  # the parent's git still answers
    assert snap.files["models/m39.sql"].data == _model(39).encode()


def test_a_lazy_file_compares_pickles_and_copies_as_its_bytes(project: GitRepo) -> None:
    content = _lazy(project).files["models/m7.sql"]
    eager = FileContent("models/m7.sql", _model(7).encode(), sha=content.sha)
    assert pickle.loads(pickle.dumps(_lazy(project).files["models/m7.sql"])) == eager
    assert repr(content) == repr(eager)
    assert content == eager
    assert content.data is eager.data or content.data == eager.data


def test_the_git_of_a_repository_ends_with_its_snapshots(project: GitRepo) -> None:
    snap = _lazy(project)
    assert snap.files["models/m1.sql"].data == _model(1).encode()
    reader = git._OPEN[str(project.root)]
    proc = reader._proc
    assert proc is not None and proc.poll() is None
    del snap, reader
    assert str(project.root) not in git._OPEN
    assert proc.wait(timeout=10) == 0  # its input closed, git exited


def test_a_closed_reader_starts_git_again(project: GitRepo) -> None:
    snap = _lazy(project)
    assert snap.files["models/m1.sql"].data == _model(1).encode()
    git._OPEN[str(project.root)].close()
    assert snap.files["models/m2.sql"].data == _model(2).encode()
    assert os.getpid() == git._OPEN[str(project.root)]._owner


@pytest.mark.parametrize("object_format", ["sha1", "sha256"])
def test_every_blob_read_lazily_in_any_order_is_git_s(tmp_path: Path, object_format: str) -> None:
    """Past a few reads one by one, a read takes the next blobs along, in requests that
    never fill the pipe (SHA-256 names are longer)."""
    repo = GitRepo.__new__(GitRepo)
    repo.root = tmp_path / "repo"
    repo.root.mkdir()
    repo.git("init", "-q", "-b", "main", f"--object-format={object_format}")
    texts = {
        f"v/{i:03}.sql": f"create view v{i} as select {i} as x;\n" * (i % 7 + 1) for i in range(300)
    }
    repo.commit(dict(texts), "base")
    snap = git.snapshot(repo.root, "HEAD")
    for path in sorted(texts, reverse=True):
        assert snap.files[path].data == texts[path].encode()
    assert not snap.files["v/000.sql"].missing
