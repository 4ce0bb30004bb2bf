"""Revisions, changed files and file contents, read from git without checking anything out.

The git CLI is used through subprocess: it is fast to start and its view of the index is
reliable under pre-commit (GitPython's has been reported empty there).
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NoReturn

from impact_check.errors import GitError
from impact_check.model import FileContent, Snapshot

WORKTREE = "WORKTREE"
INDEX = "INDEX"
# SQL, dbt/config YAML, dbt seeds, message schemas (Avro, Protobuf, JSON Schema)
_READ_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".avsc", ".proto", ".schema.json")
# dbt, and the migration frameworks' order and engine files (project/migrations.py)
_READ_NAMES = ("dbt_project.yml", "sqitch.plan", "sqitch.conf", "atlas.sum", "migration_lock.toml")


@dataclass(frozen=True)
class FileChange:
    """A changed path: status is added, modified, deleted or renamed."""

    path: str
    status: str
    old_path: str | None = None
    mode: str | None = None  # git mode at head (at base when deleted): 160000 is a submodule


def run_git(
    root: Path, *args: str, input_bytes: bytes | None = None, timeout: float | None = None
) -> bytes:
    """Run git in ``root``; a failure raises GitError with git's own first line.

    git never prompts (a lazy fetch from a partial clone's remote must not wait for a
    password on a CI runner)."""
    try:
        proc = subprocess.run(
            ["git", "-c", "core.quotepath=off", *args],
            cwd=root,
            input=input_bytes,
            capture_output=True,
            check=False,
            timeout=timeout,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
        )
    except FileNotFoundError as err:
        raise GitError("git is not installed or not on PATH") from err
    except subprocess.TimeoutExpired as err:
        raise GitError(f"git {args[0]} failed: no answer after {timeout:g} s") from err
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {_command(args)} failed: {_first_fatal(message) or proc.returncode}")
    return proc.stdout


def _command(args: tuple[str, ...]) -> str:
    """The git subcommand in ``args`` (after any ``-c key=value``)."""
    rest = list(args)
    while len(rest) > 1 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def _first_fatal(lines: list[str]) -> str:
    """git's reason: its first ``fatal:``/``error:`` line (warnings and hints come first)."""
    chosen = next(
        (ln for ln in lines if ln.startswith(("fatal:", "error:"))), lines[0] if lines else ""
    )
    return _URL_CREDENTIALS.sub("***@", chosen)  # a remote URL may carry a token


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
        if is_shallow(root):
            raise GitError(
                f"unknown revision: {rev}: this clone is shallow (its history was cut by "
                "--depth) and does not contain it",
                hint=_FULL_HISTORY,
            ) from err
        raise GitError(
            f"unknown revision: {rev}",
            hint="in CI, fetch the full history (actions/checkout with fetch-depth: 0)",
        ) from err


_FULL_HISTORY = (
    "fetch the full history: actions/checkout with fetch-depth: 0, or `git fetch --unshallow` here"
)


def is_shallow(root: Path) -> bool:
    """Whether the clone's history is cut (``git clone --depth``)."""
    try:
        return run_git(root, "rev-parse", "--is-shallow-repository").strip() == b"true"
    except GitError:
        return False


def checked_out(root: Path) -> bool:
    """Whether the work tree was ever checked out: a ``--no-checkout`` clone has no index,
    and git then sees every file of HEAD as deleted from the work tree."""
    return head_state(root)[0]


def head_state(root: Path) -> tuple[bool, str | None]:
    """``checked_out``, and HEAD's commit (None when there is no commit yet), from one git
    call."""
    try:
        out = run_git(
            root, "rev-parse", "--git-path", "index", "--verify", "--quiet", "HEAD^{commit}"
        )
    except GitError:
        return True, None  # no commit yet: nothing to check out
    index, commit = out.decode().split()
    return (root / index).exists(), commit


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
        if is_shallow(root):
            raise GitError(
                f"no merge-base between {a} and {b}: this clone is shallow (its history was "
                "cut by --depth) and does not reach where they forked",
                hint=_FULL_HISTORY,
            ) from err
        raise GitError(
            f"no merge-base between {a} and {b}",
            hint="the history is probably shallow: fetch with fetch-depth: 0",
        ) from err


def changed_files(root: Path, base: str, head: str) -> list[FileChange]:
    """Files that differ between ``base`` and ``head`` (a SHA, INDEX or WORKTREE)."""
    args = ["diff", "--raw", "-z", "--no-ext-diff", "--no-textconv", "--abbrev=40"]
    if head == INDEX:
        args += ["--cached", base]
    elif head == WORKTREE:
        args.append(base)
    else:
        args += [base, head]
    try:
        out = run_git(root, *args[:2], "-M", *args[2:])
    except GitError:
        if promisor_remote(root) is None:
            raise
        # Finding inexact renames reads the blobs; a partial clone whose remote is gone
        # cannot fetch them. Without renames, a moved file reads as deleted plus added.
        out = run_git(root, *args[:2], "--no-renames", *args[2:])
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


# picks, out of a revision's paths, the ones a snapshot holds besides those the loaders read
Extra = Callable[[list[str]], set[str]]


def snapshot(
    root: Path, rev: str, known: Snapshot | None = None, extra: Extra | None = None
) -> Snapshot:
    """The files the loaders read, at a commit, the index or the work tree, and those
    ``extra`` picks (the consumer files the repository carries: discover.consumer_paths).
    Blobs already read into ``known`` (the other revision) are taken from it, not read
    again."""
    if rev == WORKTREE:
        return _worktree_snapshot(root, known, extra)
    entries = _index_entries(root, extra) if rev == INDEX else _tree_entries(root, rev, extra)
    return _read_blobs(root, entries, known, "HEAD" if rev == INDEX else rev)


def _selected(paths: list[str], extra: Extra | None) -> set[str]:
    """The files a snapshot holds: what the loaders read, and what ``extra`` picks."""
    return {p for p in paths if wanted(p)} | (extra(paths) if extra is not None else set())


def _tree_entries(root: Path, rev: str, extra: Extra | None) -> list[tuple[str, str, str]]:
    out = run_git(root, "ls-tree", "-r", "-z", "--full-tree", rev)
    blobs = []
    for line in _split_z(out):
        meta, _, path = line.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":
            blobs.append((mode, sha, path))
    selected = _selected([path for _mode, _sha, path in blobs], extra)
    return [entry for entry in blobs if entry[2] in selected]


def _index_entries(root: Path, extra: Extra | None) -> list[tuple[str, str, str]]:
    return [(mode, sha, path) for _tag, mode, sha, path in _index_listing(root, extra)]


def _index_listing(root: Path, extra: Extra | None) -> list[tuple[str, str, str, str]]:
    """(tag, mode, sha, path) of each staged file the loaders read; tag ``S`` marks a
    skip-worktree entry (outside a sparse checkout: git reads it from the index)."""
    out = run_git(root, "ls-files", "-s", "-t", "-z")
    entries: dict[str, tuple[str, str, str, str]] = {}
    for line in _split_z(out):
        meta, _, path = line.partition("\t")
        tag, mode, sha, _stage = meta.split()
        if mode != "160000":
            entries.setdefault(path, (tag, mode, sha, path))  # one entry per conflict stage
    selected = _selected(list(entries), extra)
    return [entry for path, entry in entries.items() if path in selected]


def _read_blobs(
    root: Path,
    entries: list[tuple[str, str, str]],
    known: Snapshot | None = None,
    commit: str | None = None,
) -> Snapshot:
    """The blobs of ``entries``. A blob the clone lacks (a partial clone, an incomplete copy)
    is a file without data, marked missing, with the reason and what to do: never an error,
    never an absent file (which would read as deleted). ``commit`` holds the entries' tree,
    to find which blobs a partial clone lacks without fetching them one by one.

    Which blobs exist is known at once; their bytes are read when something reads the
    file's ``data`` (a warm run reads only the changed files and what the loaders open), from
    the repository's one open ``git cat-file --batch`` (_Blobs). A few blobs (the files a
    commit or a staged change adds) are read at once from it, with no other git call."""
    snap = Snapshot()
    have = {c.sha: c for c in (known.files.values() if known else ()) if c.sha}
    readable = []
    for mode, sha, path in entries:
        if mode == "120000":
            snap.files[path] = FileContent(path, None, "symbolic link: not followed")
        elif sha in have:
            seen = have[sha]
            snap.files[path] = FileContent(
                path, None, seen.reason, sha, seen.missing, load=_same(seen)
            )
        else:
            readable.append((sha, path))
    if not readable:
        return snap
    blobs = _Blobs.of(root)
    absent = _absent_blobs(root, {sha for sha, _ in readable}, commit, blobs)
    asked = list(dict.fromkeys(sha for sha, _ in readable if sha not in absent))
    if len(asked) <= _READ_AT_ONCE:
        with blobs.lock:
            blobs.read_all(asked)
        there = {sha for sha in asked if blobs.read_bytes[sha] is not None}
    else:
        there = set(asked) - _missing_blobs(root, asked)
    for sha, path in readable:
        if sha not in there:
            reason = absent.get(sha) or _MISSING
            snap.files[path] = FileContent(path, None, reason, sha, missing=True)
        else:
            snap.files[path] = FileContent(path, None, sha=sha, load=blobs.loader(sha))
    return snap


# Up to this many unknown blobs are read at once (a check's head adds a handful of files:
# they will be read), more are only looked up and read when asked for.
_READ_AT_ONCE = 32


def _same(content: FileContent) -> Callable[[], bytes | None]:
    """A loader of the bytes ``content`` holds (read once, for both)."""
    return lambda: content.data


def _missing_blobs(root: Path, shas: list[str]) -> set[str]:
    """The blobs of ``shas`` git answers ``missing`` for, looked up without reading any
    (``git cat-file --batch-check`` asking for nothing but the name only stats each one)."""
    out = run_git(
        root,
        "cat-file",
        "--batch-check=%(objectname)",
        input_bytes="".join(f"{s}\n" for s in shas).encode(),
    )
    lines = out.split(b"\n")
    missing = set()
    for i, sha in enumerate(shas):
        answer = lines[i].split() if i < len(lines) else []
        if answer == [sha.encode(), b"missing"]:
            missing.add(sha)
        elif answer != [sha.encode()]:
            shown = (lines[i] if i < len(lines) else b"")[:80].decode("utf-8", "replace")
            raise GitError(f"git cat-file: unexpected answer for {sha}: {shown!r}")
    return missing


class _Blobs:
    """The blobs of one repository, read on demand from one ``git cat-file --batch`` that
    stays open while files read from it live (started at the first read; closed when the
    last of them is gone, by ``close``, or at exit). Each blob is read once.

    Safe under threads (one request at a time: ``lock``) and in forked workers: a process other than
    the one that started git never writes to its pipes, it reads with a git of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.read_bytes: dict[str, bytes | None] = {}
        self._promisor: tuple[str | None] | None = None
        self._unread: dict[str, None] = {}  # blobs handed out to loaders, not read yet
        self._one_by_one = 0  # blobs read one by one so far
        self._proc: subprocess.Popen[bytes] | None = None
        self._owner = os.getpid()
        self.lock = threading.Lock()
        self._stop: weakref.finalize[Any, Any] | None = None

    @classmethod
    def of(cls, root: Path) -> _Blobs:
        """The reader of ``root`` the files of its other snapshots still hold, else a new one
        (a check's two snapshots share one git process)."""
        key = str(root)
        found = _OPEN.get(key)
        if found is None or found._owner != os.getpid():
            found = _OPEN[key] = cls(root)
        return found

    def promisor(self) -> str | None:
        """``promisor_remote``, asked once."""
        if self._promisor is None:
            self._promisor = (promisor_remote(self.root),)
        return self._promisor[0]

    def loader(self, sha: str) -> Callable[[], bytes | None]:
        """What reads the blob when its file's data is first read."""
        if sha not in self.read_bytes:
            self._unread.setdefault(sha)
        return lambda: self.read(sha)

    def read(self, sha: str) -> bytes | None:
        """The blob's bytes, None when git answers ``missing``. Once the loaders have read
        more than a few blobs one by one, a read takes the next ones handed out too (a cold
        build reads them all: in round trips of many, not one each)."""
        if sha in self.read_bytes:
            return self.read_bytes[sha]
        if os.getpid() != self._owner:  # a forked worker: its parent's pipes are not its own
            return _cat_blobs(self.root, [sha]).get(sha)
        with self.lock:
            if sha not in self.read_bytes:
                wanted = [sha]
                if self._one_by_one >= _ONE_BY_ONE:
                    for other in self._unread:
                        if len(wanted) == _READ_AHEAD:
                            break
                        if other != sha:
                            wanted.append(other)
                else:
                    self._one_by_one += 1
                self.read_all(wanted)
        return self.read_bytes[sha]

    def read_all(self, shas: list[str]) -> None:
        """Read ``shas`` into ``read_bytes``, in as few round trips as is safe."""
        shas = [sha for sha in dict.fromkeys(shas) if sha not in self.read_bytes]
        if not shas:
            return
        proc = self._proc or self._start()
        assert proc.stdin is not None and proc.stdout is not None
        # a request never fills the pipe to git (which may be writing its answers): ≤ 4 KB
        step = max(1, _REQUEST_BYTES // (len(shas[0]) + 1))
        for at in range(0, len(shas), step):
            chunk = shas[at : at + step]
            try:
                proc.stdin.write("".join(f"{sha}\n" for sha in chunk).encode())
                proc.stdin.flush()
            except OSError:  # git is gone (a broken pipe)
                self._fail(chunk[0], b"")
            for sha in chunk:
                self.read_bytes[sha] = self._answer(proc.stdout, sha)
                self._unread.pop(sha, None)

    def _answer(self, out: IO[bytes], sha: str) -> bytes | None:
        header = b""
        try:
            header = out.readline()
            fields = header.split()
            if len(fields) == 2 and fields[1] == b"missing":
                return None
            if len(fields) == 3 and fields[2].isdigit():
                size = int(fields[2])
                body = out.read(size + 1)
                if len(body) == size + 1:
                    return body[:size]
        except OSError:
            pass
        self._fail(sha, header)

    def _fail(self, sha: str, header: bytes) -> NoReturn:
        self._close()
        shown = header[:80].decode("utf-8", "replace")
        raise GitError(f"git cat-file: unexpected answer for {sha}: {shown!r}")

    def _start(self) -> subprocess.Popen[bytes]:
        try:
            proc = subprocess.Popen(
                ["git", "-c", "core.quotepath=off", "cat-file", "--batch"],
                cwd=self.root,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
        except FileNotFoundError as err:
            raise GitError("git is not installed or not on PATH") from err
        self._proc = proc
        self._stop = weakref.finalize(self, _stop_git, proc, self._owner)
        return proc

    def close(self) -> None:
        """Stop git (a later read starts it again)."""
        with self.lock:
            self._close()

    def _close(self) -> None:
        if self._stop is not None:
            self._stop()
        self._proc = self._stop = None


# Blobs read one by one before a read takes the next ones along (up to _READ_AHEAD)
_ONE_BY_ONE = 16
_READ_AHEAD = 512
_REQUEST_BYTES = 4000  # one request to git: less than any pipe buffer

# the repositories' open readers, by root, while files read from them live
_OPEN: weakref.WeakValueDictionary[str, _Blobs] = weakref.WeakValueDictionary()


def _stop_git(proc: subprocess.Popen[bytes], owner: int) -> None:
    """End a ``git cat-file --batch``: its input closed, it exits."""
    if os.getpid() != owner:
        return
    for stream in (proc.stdin, proc.stdout):  # nothing is left to flush: never raises
        if stream is not None:
            stream.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _cat_blobs(root: Path, shas: list[str]) -> dict[str, bytes | None]:
    """``git cat-file --batch``: each blob's bytes, None for one git answers ``missing``."""
    out = run_git(root, "cat-file", "--batch", input_bytes="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes | None] = {}
    pos = 0
    for sha in shas:
        header_end = out.find(b"\n", pos)
        header = out[pos:header_end].split() if header_end >= 0 else []
        if len(header) == 2 and header[1] == b"missing":
            blobs[sha] = None
            pos = header_end + 1
            continue
        if len(header) != 3 or not header[2].isdigit():
            shown = out[pos : pos + 80].decode("utf-8", "replace")
            raise GitError(f"git cat-file: unexpected answer for {sha}: {shown!r}")
        start = header_end + 1
        size = int(header[2])
        blobs[sha] = out[start : start + size]
        pos = start + size + 1
    return blobs


_MISSING = (
    "the file's git object is missing from this clone (an incomplete copy of the "
    "repository): not analysed; fetch the repository in full to analyse it"
)


def promisor_remote(root: Path) -> str | None:
    """The remote a partial clone (``--filter``) fetches its missing objects from."""
    try:
        out = run_git(
            root, "config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$"
        )
    except GitError:
        return None  # no such key
    for line in out.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(" ")
        if key == "extensions.partialclone" and value:
            return value
        if key.endswith(".promisor") and value.lower() in ("true", "yes", "on", "1"):
            return key[len("remote.") : -len(".promisor")]
    return None


_FETCH_TIMEOUT = 300.0  # seconds for the one fetch of a partial clone's missing blobs


def _absent_blobs(root: Path, shas: set[str], commit: str | None, blobs: _Blobs) -> dict[str, str]:
    """The blobs of ``shas`` a partial clone lacks and cannot fetch, with the reason.

    git would fetch each missing blob in its own round trip, and stop at the first it cannot
    fetch; instead the missing ones are listed without fetching, fetched in one request like
    git's own lazy fetch, and what is still missing after it is returned."""
    remote = blobs.promisor() if commit else None
    if remote is None or commit is None:
        return {}
    missing = _missing_objects(root, commit) & shas
    if not missing:
        return {}
    problem = ""
    try:
        run_git(
            root,
            "-c",
            "fetch.negotiationAlgorithm=noop",
            "fetch",
            remote,
            "--no-tags",
            "--no-write-fetch-head",
            "--recurse-submodules=no",
            "--filter=blob:none",
            "--stdin",
            input_bytes="".join(f"{sha}\n" for sha in sorted(missing)).encode(),
            timeout=_FETCH_TIMEOUT,
        )
    except GitError as err:
        problem = str(err).removeprefix("git fetch failed: ")
    still = _missing_objects(root, commit) & missing
    reason = (
        f"the file's git object is not in this partial clone and its remote {remote!r} "
        f"could not supply it ({problem or 'the remote does not have it'}): not analysed; "
        "check out in full (actions/checkout without `filter`) to analyse it"
    )
    return dict.fromkeys(still, reason)


def _missing_objects(root: Path, commit: str) -> set[str]:
    """Objects of ``commit``'s tree this clone lacks, listed without fetching any."""
    try:
        out = run_git(root, "rev-list", "--objects", "--no-walk", "--missing=print", commit, "--")
    except GitError:
        return set()  # no such commit (an unborn HEAD): the blobs are read as they are
    return {line[1:].split()[0] for line in out.decode().splitlines() if line.startswith("?")}


def _worktree_snapshot(root: Path, known: Snapshot | None, extra: Extra | None) -> Snapshot:
    """The work tree as the loaders read it. Entries outside a sparse checkout are read from
    the index, as git itself does (their absence from disk is not a deletion)."""
    out = run_git(root, "ls-files", "-z", "--others", "--exclude-standard")
    sparse = []
    paths = set(_split_z(out))
    for tag, mode, sha, path in _index_listing(root, extra):
        if tag == "S":
            sparse.append((mode, sha, path))
        else:
            paths.add(path)
    snap = _read_blobs(root, sparse, known, "HEAD") if sparse else Snapshot()
    selected = _selected(sorted(paths | {path for _mode, _sha, path in sparse}), extra)
    for path in sorted(paths):
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
    return Snapshot(dict(sorted(snap.files.items())))


def commit_messages(root: Path, base: str, head: str, tip: str | None = None) -> str:
    """The messages of the commits in base..head (head HEAD, whose commit is ``tip`` when
    known, for the index or work tree)."""
    tip = (tip or "HEAD") if head in (WORKTREE, INDEX) else head
    if tip == base:
        return ""  # an empty range (a pre-commit check against HEAD): git is not asked
    try:
        return run_git(root, "log", "--format=%B", f"{base}..{tip}").decode("utf-8", "replace")
    except GitError:
        return ""


def hook_range() -> tuple[str, str] | None:
    """pre-commit's pre-push range, when set."""
    source, target = os.environ.get("PRE_COMMIT_FROM_REF"), os.environ.get("PRE_COMMIT_TO_REF")
    return (source, target) if source and target else None


def file_versions(root: Path, rev: str, path: str, limit: int) -> tuple[list[bytes], bool]:
    """The distinct committed contents of ``path`` in the history of ``rev``, oldest first
    (at most the ``limit`` newest), and whether older ones were left out."""
    out = run_git(root, "log", "--format=%H", "--no-renames", rev, "--", path)
    commits = out.decode().split()
    blobs: list[str] = []
    for commit in commits:  # newest first
        try:
            sha = run_git(root, "rev-parse", "--verify", "--quiet", f"{commit}:{path}")
        except GitError:
            continue  # the commit deleted it
        blob = sha.decode().strip()
        if blob and blob not in blobs:
            blobs.append(blob)
    cut = len(blobs) > limit
    chosen = list(reversed(blobs[:limit]))
    return [run_git(root, "cat-file", "blob", blob) for blob in chosen], cut
