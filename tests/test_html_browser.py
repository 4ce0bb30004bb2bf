"""The html report in a real headless Chromium: it renders, shows the broken datasets, fits
the page, and never cuts a name — at 10 and at 300 impacted datasets.

The report is served by a local HTTP server and measured from a page that frames it (same
origin), so the report itself carries no test code: the measuring page writes what it found
into its own DOM, which Chromium's --dump-dom prints.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
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
ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"

# Measures the framed report: every box's texts inside its frame, the drawing inside its
# container, the page no wider than the window, the broken boxes; then hovers one consumer.
MEASURE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="r" src="report.html" style="width:1280px;height:900px;border:0"></iframe>
<pre id="out"></pre>
<script>
document.getElementById('r').addEventListener('load', function () {
  var d = this.contentDocument, w = this.contentWindow, out = {cut: [], boxes: 0};
  d.querySelectorAll('g.box').forEach(function (g) {
    out.boxes++;
    var frame = g.querySelector('rect.frame').getBBox();
    g.querySelectorAll('text').forEach(function (t) {
      var b = t.getBBox();
      if (b.x < frame.x || b.x + b.width > frame.x + frame.width)
        out.cut.push(t.textContent);
    });
  });
  var svg = d.querySelector('.graph svg'), box = svg.getBoundingClientRect();
  var host = d.querySelector('.graph').getBoundingClientRect();
  out.svgInside = box.right <= host.right + 1 && box.left >= host.left - 1;
  out.pageOverflow = d.documentElement.scrollWidth > w.innerWidth;
  out.broken = Array.from(d.querySelectorAll('g.box.broken')).map(function (g) {
    return g.dataset.node; });
  var consumer = d.querySelector('g.box.broken');
  consumer.dispatchEvent(new MouseEvent('mouseenter'));
  out.highlighted = d.querySelectorAll('.edge.hl').length;
  out.dimmed = svg.classList.contains('dim');
  document.getElementById('out').textContent = JSON.stringify(out);
});
</script></body></html>
"""


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs it from Debian")
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "measure.html").write_text(MEASURE)
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _report(repo: GitRepo, page: Path, base: str, head: str) -> None:
    code, _out, _err = repo.run(
        "check", "--base", base, "--head", head, "--format", "json", "--report", f"html:{page}"
    )
    assert code == 1


def _measure(browser: str, url: str, profile: Path) -> dict[str, object]:
    dom = subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
         "--dump-dom", f"{url}/measure.html"],
        capture_output=True, text=True, timeout=180,
    ).stdout  # fmt: skip
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found and found.group(1), dom[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _screenshot(browser: str, url: str, profile: Path, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / name
    subprocess.run(
        [browser, *FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}",
         "--window-size=1280,900", f"{url}/report.html"],
        capture_output=True, timeout=180, check=True,
    )  # fmt: skip
    assert shot.stat().st_size > 10_000


def test_demo_report_fits_and_names_are_whole(tmp_path: Path, served: tuple[Path, str]) -> None:
    browser = chromium()
    site, url = served
    root = tmp_path / "demo"
    build_demo_repo(root)
    repo = GitRepo.__new__(GitRepo)
    repo.root = root
    _report(repo, site / "report.html", "main", "feature")
    text = (site / "report.html").read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")  # self-contained
    seen = _measure(browser, url, tmp_path / "profile")
    assert seen["cut"] == [] and seen["svgInside"] and not seen["pageOverflow"]
    broken = set(seen["broken"])  # type: ignore[call-overload]
    assert {"ml.customer_features", "staging.stg_products", "marts.fct_order_lines"} <= broken
    assert 10 <= seen["boxes"] <= 12  # type: ignore[operator]
    assert seen["dimmed"] and seen["highlighted"]
    _screenshot(browser, url, tmp_path / "profile", "html-report.png")


def test_three_hundred_impacted_datasets_fit_the_page(
    tmp_path: Path, served: tuple[Path, str]
) -> None:
    browser = chromium()
    site, url = served
    repo = GitRepo(tmp_path / "repo")
    files = {"db/V1.sql": "CREATE TABLE raw.orders (id INT, amount INT, customer_reference INT);\n"}
    for i in range(20):
        files[f"views/staging/stg_orders_with_a_rather_long_name_{i}.sql"] = (
            f"CREATE VIEW staging.stg_orders_with_a_rather_long_name_{i} AS "
            "SELECT id, amount, customer_reference FROM raw.orders;\n"
        )
    for i in range(280):
        files[f"views/marts/m{i}.sql"] = (
            f"CREATE VIEW marts.reporting_consumer_number_{i} AS SELECT id, "
            f"customer_reference AS ref_{i} "
            f"FROM staging.stg_orders_with_a_rather_long_name_{i % 20};\n"
        )
    repo.commit(files, "base")
    repo.commit({"db/V2.sql": "ALTER TABLE raw.orders DROP COLUMN customer_reference;\n"}, "drop")
    _report(repo, site / "report.html", "HEAD~1", "HEAD")
    seen = _measure(browser, url, tmp_path / "profile")
    assert seen["boxes"] == 301
    assert seen["cut"] == [] and seen["svgInside"] and not seen["pageOverflow"]
    assert len(seen["broken"]) == 300  # type: ignore[arg-type]
    assert seen["highlighted"]
    _screenshot(browser, url, tmp_path / "profile", "html-report-300.png")
