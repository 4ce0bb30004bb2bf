"""git.py on real repositories: statuses, blobs on both sides, index, work tree, merge-base."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo

from impact_check import git
from impact_check.check import resolve_revisions
from impact_check.errors import GitError


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo(tmp_path / "repo")
    r.commit(
        {
            "a.sql": "create table a (x int);\n",
            "b.sql": "create table b (y int);\n",
            "c.sql": "create table c (z int);\n",
            "notes.txt": "hi\n",
        },
        "base",
    )
    return r


def _statuses(repo: GitRepo, base: str, head: str) -> dict[str, tuple[str, str | None]]:
    return {c.path: (c.status, c.old_path) for c in git.changed_files(repo.root, base, head)}


def test_added_modified_deleted_renamed_between_commits(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.git("mv", "c.sql", "moved.sql")
    head = repo.commit(
        {
            "a.sql": "create table a (x bigint);\n",
            "b.sql": None,
            "new.sql": "create table n (q int);\n",
        }
    )
    assert _statuses(repo, base, head) == {
        "a.sql": ("modified", None),
        "b.sql": ("deleted", None),
        "new.sql": ("added", None),
        "moved.sql": ("renamed", "c.sql"),
    }


def test_blobs_are_read_at_each_side_without_checkout(repo: GitRepo) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    head = repo.commit({"a.sql": "create table a (x bigint);\n"})
    repo.git("checkout", "-q", base)  # the work tree holds the base; head is still read
    assert git.snapshot(repo.root, head).files["a.sql"].data == b"create table a (x bigint);\n"
    assert git.snapshot(repo.root, base).files["a.sql"].data == b"create table a (x int);\n"
    assert "notes.txt" not in git.snapshot(repo.root, base).files


@pytest.mark.parametrize("rev", ["HEAD", git.INDEX, git.WORKTREE])
def test_a_snapshot_holds_the_extra_paths_its_caller_picks(repo: GitRepo, rev: str) -> None:
    """Beyond what the loaders read, a snapshot holds what ``extra`` picks (check.py passes
    the consumer files discover.py reads), at a commit, the index and the work tree."""
    assert "notes.txt" not in git.snapshot(repo.root, rev).files
    picked = git.snapshot(repo.root, rev, extra=lambda paths: {p for p in paths if "notes" in p})
    assert picked.files["notes.txt"].data == b"hi\n"
    assert "a.sql" in picked.files


def test_staged_only_changes_compare_index_with_head(repo: GitRepo) -> None:
    repo.write({"a.sql": "create table a (x text);\n"})
    repo.git("add", "a.sql")
    repo.write({"b.sql": "create table b (y text);\n"})  # unstaged: not part of --staged
    revisions = resolve_revisions(repo.root, staged=True)
    assert revisions.head == git.INDEX
    assert _statuses(repo, revisions.base, git.INDEX) == {"a.sql": ("modified", None)}
    index = git.snapshot(repo.root, git.INDEX)
    assert index.files["a.sql"].data == b"create table a (x text);\n"
    assert index.files["b.sql"].data == b"create table b (y int);\n"


def test_worktree_includes_untracked_but_not_ignored(repo: GitRepo) -> None:
    repo.commit({".gitignore": "ignored.sql\n"})
    repo.write({"untracked.sql": "create table u (v int);\n", "ignored.sql": "select 1;\n"})
    base = repo.git("rev-parse", "HEAD").strip()
    statuses = _statuses(repo, base, git.WORKTREE)
    assert statuses == {"untracked.sql": ("added", None)}
    assert "ignored.sql" not in git.snapshot(repo.root, git.WORKTREE).files


def test_default_base_is_merge_base_with_diverged_main(repo: GitRepo) -> None:
    fork = repo.git("rev-parse", "HEAD").strip()
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"a.sql": "create table a (x bigint);\n"})
    repo.git("checkout", "-q", "main")
    repo.commit({"b.sql": "create table b (y bigint);\n"})  # main moves on
    repo.git("checkout", "-q", "feature")
    revisions = resolve_revisions(repo.root)
    assert revisions.base == fork
    assert revisions.head == git.WORKTREE
    assert set(_statuses(repo, revisions.base, revisions.head)) == {"a.sql"}


def test_unknown_revision_is_a_git_error(repo: GitRepo) -> None:
    with pytest.raises(GitError, match="unknown revision: nope"):
        git.resolve(repo.root, "nope")


def test_not_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError, match="not a git repository"):
        git.repo_root(tmp_path)


def test_shallow_clone_without_base_exits_2_with_hint(repo: GitRepo, tmp_path: Path) -> None:
    base = repo.git("rev-parse", "HEAD").strip()
    repo.commit({"a.sql": "create table a (x bigint);\n"})
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.root}", str(clone)], check=True
    )
    code, _out, err = _at(clone).run("check", "--base", base)
    assert code == 2
    assert "unknown revision" in err and "fetch-depth: 0" in err


def _at(root: Path) -> GitRepo:
    r = GitRepo.__new__(GitRepo)
    r.root = root
    return r


def test_symlink_is_not_followed(repo: GitRepo, tmp_path: Path) -> None:
    outside = tmp_path / "secret.sql"
    outside.write_text("create table secret (s int);\n")
    (repo.root / "link.sql").symlink_to(outside)
    repo.commit()
    head = git.snapshot(repo.root, "HEAD")
    assert head.files["link.sql"].data is None
    assert "symbolic link" in (head.files["link.sql"].reason or "")
