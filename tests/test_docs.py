"""The documentation: generated pages match the code, every page is in the site, the site
builds strictly, and the README stays short."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from impact_check import config_reference
from impact_check.rules import render

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def test_rules_page_is_the_generated_catalogue() -> None:
    written = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert written == render.markdown(), (
        "docs/rules.md is stale: run `impact-check rules --format markdown > docs/rules.md`"
    )


def _reference_rows() -> list[tuple[str, str, str]]:
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    table = text.split("## Reference", 1)[1]
    rows = []
    for line in table.splitlines():
        match = re.match(r"\| `([^`]+)` \| (.*?) \| (.*?) \| (.*) \|$", line)
        if match:
            key, type_text, default, meaning = match.groups()
            assert meaning.strip(), f"configuration key {key} has no meaning in the docs"
            rows.append((key, type_text, default))
    return rows


def test_configuration_reference_matches_the_model() -> None:
    documented = _reference_rows()
    expected = config_reference.rows()
    missing = sorted({r[0] for r in expected} - {r[0] for r in documented})
    stale = sorted({r[0] for r in documented} - {r[0] for r in expected})
    assert not missing, f"keys missing from docs/configuration.md's reference: {missing}"
    assert not stale, f"keys documented that the configuration no longer has: {stale}"
    assert sorted(documented) == sorted(expected)


def _nav_pages(nav: object) -> set[str]:
    if isinstance(nav, str):
        return {nav}
    if isinstance(nav, list):
        return set().union(*(_nav_pages(item) for item in nav)) if nav else set()
    if isinstance(nav, dict):
        return set().union(*(_nav_pages(v) for v in nav.values()))
    return set()


def test_every_page_is_in_the_navigation() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = {str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md")}
    nav = _nav_pages(config["nav"])
    assert pages == nav, f"not in nav: {sorted(pages - nav)}; missing files: {sorted(nav - pages)}"


def test_readme_fits_on_two_screens_and_links_resolve() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 110
    assert "impact-check demo" in readme and "pytest" in readme
    for target in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / target).is_file(), target


def test_site_builds_strictly(tmp_path: Path) -> None:
    mkdocs = shutil.which("mkdocs", path=os.path.dirname(sys.executable)) or shutil.which("mkdocs")
    if mkdocs is None:
        if os.environ.get("CI"):
            pytest.fail("mkdocs is not installed (pip install -e '.[test]')")
        pytest.skip("mkdocs is not installed")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run(
        [mkdocs, "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
