"""The html report in a real headless Chromium: it renders and shows the broken nodes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import GitRepo

from impact_check.demo import build_demo_repo

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it from Debian")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def test_html_report_renders_broken_nodes(tmp_path: Path) -> None:
    browser = chromium()
    root = tmp_path / "demo"
    build_demo_repo(root)
    repo = GitRepo.__new__(GitRepo)
    repo.root = root
    page = tmp_path / "report.html"
    code, _out, _err = repo.run(
        "check",
        "--base",
        "main",
        "--head",
        "feature",
        "--format",
        "json",
        "--report",
        f"html:{page}",
    )
    assert code == 1
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # self-contained
    profile = tmp_path / "profile"
    dom = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    for node in ("ml.customer_features", "staging.stg_products", "marts.fct_order_lines"):
        assert f'class="node broken" data-node="{node}' in dom, node
    artifacts = Path(__file__).parent.parent / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "html-report.png"
    subprocess.run(
        [
            browser,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1600,1000",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000
