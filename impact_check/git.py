"""Revisions, changed files and file contents, read from git without checking anything out.

The git CLI is used through subprocess: it is fast to start and its view of the index is
reliable under pre-commit (GitPython's has been reported empty there).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from impact_check.errors import GitError
from impact_check.model import FileContent, Snapshot

WORKTREE = "WORKTREE"
INDEX = "INDEX"
_READ_SUFFIXES = (".sql", ".yml", ".yaml", ".csv")  # SQL, dbt/config YAML, dbt seeds
_READ_NAMES = ("dbt_project.yml",)


@dataclass(frozen=True)
class FileChange:
    """A changed path: status is added, modified, deleted or renamed."""

    path: str
    status: str
    old_path: str | None = None
    mode: str | None = None  # git mode at head (at base when deleted): 160000 is a submodule


def run_git(root: Path, *args: str, input_bytes: bytes | None = None) -> bytes:
    """Run git in ``root``; a failure raises GitError with git's own first line."""
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=input_bytes,
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as err:
        raise GitError("git is not installed or not on PATH") from err
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[0] if message else proc.returncode}")
    return proc.stdout


def read_file(root: Path, rev: str, path: str) -> bytes | None:
    """The content of ``path`` at commit ``rev``; None when it does not exist there."""
    try:
        run_git(root, "cat-file", "-e", f"{rev}:{path}")
    except GitError:
        return None
    return run_git(root, "cat-file", "blob", f"{rev}:{path}")


def repo_root(path: Path) -> Path:
    """The top of the work tree containing ``path``."""
    try:
        out = run_git(path, "rev-parse", "--show-toplevel")
    except GitError as err:
        raise GitError(f"not a git repository: {path}") from err
    return Path(out.decode().strip())


def resolve(root: Path, rev: str) -> str:
    """The commit SHA a revision names."""
    try:
        return (
            run_git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()
        )
    except GitError as err:
        raise GitError(
            f"unknown revision: {rev}",
            hint="in CI, fetch the full history (actions/checkout with fetch-depth: 0)",
        ) from err


def default_branch(root: Path) -> str:
    """origin/HEAD's target, else main, else master."""
    try:
        ref = run_git(root, "symbolic-ref", "--quiet", "refs/remotes/origin/HEAD").decode().strip()
        return ref.removeprefix("refs/remotes/")
    except GitError:
        pass
    for name in ("main", "master", "origin/main", "origin/master"):
        try:
            resolve(root, name)
            return name
        except GitError:
            continue
    raise GitError("no default branch found (origin/HEAD, main or master): pass --base REV")


def merge_base(root: Path, a: str, b: str) -> str:
    """The merge-base of two revisions; a missing one points at a shallow clone."""
    try:
        return run_git(root, "merge-base", a, b).decode().strip()
    except GitError as err:
        raise GitError(
            f"no merge-base between {a} and {b}",
            hint="the history is probably shallow: fetch with fetch-depth: 0",
        ) from err


def changed_files(root: Path, base: str, head: str) -> list[FileChange]:
    """Files that differ between ``base`` and ``head`` (a SHA, INDEX or WORKTREE)."""
    args = ["diff", "--raw", "-z", "-M", "--no-ext-diff", "--no-textconv", "--abbrev=40"]
    if head == INDEX:
        out = run_git(root, *args, "--cached", base)
    elif head == WORKTREE:
        out = run_git(root, *args, base)
    else:
        out = run_git(root, *args, base, head)
    changes = _parse_name_status(out)
    if head == WORKTREE:
        untracked = run_git(root, "ls-files", "-z", "--others", "--exclude-standard")
        changes += [FileChange(p, "added") for p in _split_z(untracked)]
    return changes


def _split_z(out: bytes) -> list[str]:
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


def _parse_name_status(out: bytes) -> list[FileChange]:
    """``git diff --raw -z``: ``:old_mode new_mode old_sha new_sha STATUS`` then the path(s)."""
    fields = _split_z(out)
    changes: list[FileChange] = []
    i = 0
    while i < len(fields):
        meta = fields[i].lstrip(":").split()
        old_mode, new_mode, code = meta[0], meta[1], meta[4]
        mode = old_mode if code[0] == "D" else new_mode
        if code[0] in "RC":
            status = "renamed" if code[0] == "R" else "added"
            changes.append(FileChange(fields[i + 2], status, fields[i + 1], mode))
            i += 3
            continue
        status = {"A": "added", "D": "deleted", "M": "modified", "T": "modified"}.get(
            code[0], "modified"
        )
        changes.append(FileChange(fields[i + 1], status, mode=mode))
        i += 2
    return changes


def wanted(path: str) -> bool:
    """Whether the loaders read this file."""
    return path.endswith(_READ_SUFFIXES) or path.rsplit("/", 1)[-1] in _READ_NAMES


def snapshot(root: Path, rev: str, known: Snapshot | None = None) -> Snapshot:
    """The files the loaders read, at a commit, the index or the work tree. Blobs already
    read into ``known`` (the other revision) are taken from it, not read again."""
    if rev == WORKTREE:
        return _worktree_snapshot(root)
    entries = _index_entries(root) if rev == INDEX else _tree_entries(root, rev)
    return _read_blobs(root, entries, known)


def _selected(paths: list[str]) -> set[str]:
    """The files a snapshot holds: what the loaders read, and the consumer files the
    repository carries (discover.py: Feast repositories, MLmodel files, …)."""
    from impact_check.discover import consumer_paths

    return {p for p in paths if wanted(p)} | consumer_paths(paths)


def _tree_entries(root: Path, rev: str) -> list[tuple[str, str, str]]:
    out = run_git(root, "ls-tree", "-r", "-z", "--full-tree", rev)
    blobs = []
    for line in _split_z(out):
        meta, _, path = line.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":
            blobs.append((mode, sha, path))
    selected = _selected([path for _mode, _sha, path in blobs])
    return [entry for entry in blobs if entry[2] in selected]


def _index_entries(root: Path) -> list[tuple[str, str, str]]:
    out = run_git(root, "ls-files", "-s", "-z")
    staged = []
    for line in _split_z(out):
        meta, _, path = line.partition("\t")
        mode, sha, _stage = meta.split()
        if mode != "160000":
            staged.append((mode, sha, path))
    selected = _selected([path for _mode, _sha, path in staged])
    return [entry for entry in staged if entry[2] in selected]


def _read_blobs(
    root: Path, entries: list[tuple[str, str, str]], known: Snapshot | None = None
) -> Snapshot:
    snap = Snapshot()
    have = {c.sha: c.data for c in (known.files.values() if known else ()) if c.sha}
    readable = []
    for mode, sha, path in entries:
        if mode == "120000":
            snap.files[path] = FileContent(path, None, "symbolic link: not followed")
        elif sha in have:
            snap.files[path] = FileContent(path, have[sha], sha=sha)
        else:
            readable.append((sha, path))
    if not readable:
        return snap
    out = run_git(
        root, "cat-file", "--batch", input_bytes="".join(f"{sha}\n" for sha, _ in readable).encode()
    )
    pos = 0
    for sha, path in readable:
        header_end = out.index(b"\n", pos)
        size = int(out[pos:header_end].split()[2])
        start = header_end + 1
        snap.files[path] = FileContent(path, out[start : start + size], sha=sha)
        pos = start + size + 1
    return snap


def _worktree_snapshot(root: Path) -> Snapshot:
    out = run_git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    snap = Snapshot()
    paths = sorted(set(_split_z(out)))
    selected = _selected(paths)
    for path in paths:
        if path not in selected:
            continue
        full = root / path
        if full.is_symlink():
            snap.files[path] = FileContent(path, None, "symbolic link: not followed")
        elif full.is_file():
            try:
                snap.files[path] = FileContent(path, full.read_bytes())
            except OSError as err:
                snap.files[path] = FileContent(path, None, f"cannot read: {err.strerror}")
    return snap


def commit_messages(root: Path, base: str, head: str) -> str:
    """The messages of the commits in base..head (head HEAD for the index or work tree)."""
    tip = "HEAD" if head in (WORKTREE, INDEX) else head
    try:
        return run_git(root, "log", "--format=%B", f"{base}..{tip}").decode("utf-8", "replace")
    except GitError:
        return ""


def hook_range() -> tuple[str, str] | None:
    """pre-commit's pre-push range, when set."""
    source, target = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    return (source, target) if source and target else None
