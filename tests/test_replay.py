"""benchmarks/replay.py: the history replay of issue 14, on a tiny real git repository.

Three commits: the base (a table and a view reading it), a harmless one (a new column and a
README edit), and one dropping the column the view reads. The harness must replay the two
commits that have a parent, count one green and one red build, name the failing commit's
error (rule, file:line, the view as consumer), save every report, and print the same
summary again from the saved directory.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.gitrepo import GitRepo

ROOT = Path(__file__).resolve().parent.parent


def _load_replay() -> ModuleType:
    spec = importlib.util.spec_from_file_location("replay", ROOT / "benchmarks" / "replay.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["replay"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


replay = _load_replay()

TABLE = "CREATE TABLE raw.orders (id INT, amount INT, note TEXT);\n"
VIEW = "CREATE VIEW reporting.order_totals AS SELECT id, amount FROM raw.orders;\n"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, list[str]]:
    repo = GitRepo(tmp_path_factory.mktemp("replay") / "project")
    shas = [
        repo.commit({"migrations/V1__orders.sql": TABLE, "views/order_totals.sql": VIEW}, "base"),
        repo.commit(
            {
                "migrations/V2__add_channel.sql": (
                    "ALTER TABLE raw.orders ADD COLUMN channel TEXT;\n"
                ),
                "README.md": "orders\n",
            },
            "harmless: add a column",
        ),
        repo.commit(
            {"migrations/V3__drop_amount.sql": "ALTER TABLE raw.orders DROP COLUMN amount;\n"},
            "drop the column the view reads",
        ),
    ]
    return repo, shas


CHECKER = [sys.executable, "-m", "impact_check"]


def test_replay_counts_green_and_red_builds(
    history: tuple[GitRepo, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo, shas = history
    out = tmp_path / "runs"
    code = replay.main(
        [f"tiny={repo.root}", "-n", "10", "--out", str(out), "--checker", " ".join(CHECKER)]
    )
    assert code == 0
    printed = capsys.readouterr().out

    runs = replay.load_runs(out / "tiny")
    # the root commit has no parent to diff against: two commits replayed, oldest first
    assert [r.commit for r in runs] == shas[1:]
    assert [r.exit for r in runs] == [0, 1]
    assert all(r.report and (out / "tiny" / r.report).is_file() for r in runs)
    assert json.loads((out / "tiny" / "meta.json").read_text())["head"] == shas[-1]

    summary = replay.summarise(out / "tiny")
    assert summary.commits == 2
    assert summary.exits == {"0": 1, "1": 1}
    assert [f["commit"] for f in summary.failing] == [shas[2]]
    errors = summary.failing[0]["errors"]
    assert any(
        e["location"] == "migrations/V3__drop_amount.sql:1"
        and "reporting.order_totals" in e["consumers"]
        for e in errors
    ), errors
    assert summary.crashes == []
    assert "commits 2; exit codes {0: 1, 1: 1}" in printed
    assert f"FAILED {shas[2][:10]}" in printed

    # the summary is re-read from the saved directory alone
    assert replay.main(["--summary", str(out)]) == 0
    again = capsys.readouterr().out
    assert f"FAILED {shas[2][:10]}" in again and "TOTAL: 1 repositories, 2 commits" in again


def test_commit_selection_follows_paths_and_excludes(
    history: tuple[GitRepo, list[str]],
) -> None:
    repo, shas = history
    # only the last commit touches a file named V3*; -n limits from the newest
    picked = replay.select_commits(repo.root, 10, None, ["*V3__*"])
    assert [c[0] for c in picked] == [shas[2]]
    assert [c[0] for c in replay.select_commits(repo.root, 1, None, ["*.sql"])] == [shas[2]]
    # a commit touching only excluded files is not selected
    assert replay.select_commits(repo.root, 10, None, ["*.md"], ["README.md"]) == []


def test_timeout_and_crash_are_counted(history: tuple[GitRepo, list[str]], tmp_path: Path) -> None:
    """A checker that dies or hangs is a crash / timeout in the summary, never skipped."""
    repo, _ = history
    out = tmp_path / "runs"
    crashing = f"{sys.executable} -c 'import sys; sys.stderr.write(\"boom\\n\"); sys.exit(2)'"
    replay.main([f"tiny={repo.root}", "--out", str(out), "--checker", crashing])
    summary = replay.summarise(out / "tiny")
    assert summary.exits == {"2": 2}
    assert [c["stderr"] for c in summary.crashes] == ["boom", "boom"]

    hanging = f"{sys.executable} -c 'import sys, time; \"check\" in sys.argv and time.sleep(30)'"
    replay.main(
        [f"tiny={repo.root}", "-n", "1", "--out", str(out), "--checker", hanging, "--timeout", "1"]
    )
    summary = replay.summarise(out / "tiny")
    assert summary.exits == {"timeout": 1}
