"""Run a Great Expectations 1.x file project's checkpoints against several databases.

Executed with the GX venv's Python (tests/dq/test_gx_truth.py; never imported by the
checker): ``python gx_runner.py PROJECT_ROOT URL...``. The project's datasource reads its
connection string from ``${GX_PG_URL}``; for each URL the context is loaded afresh and every
checkpoint run. Prints one JSON object: {url: {expectation id: true (passed) | false}}.
"""

from __future__ import annotations

import json
import os
import sys

import great_expectations as gx


def run(root: str, url: str) -> dict[str, bool]:
    os.environ["GX_PG_URL"] = url
    context = gx.get_context(mode="file", project_root_dir=root)
    verdicts: dict[str, bool] = {}
    for checkpoint in context.checkpoints.all():
        result = checkpoint.run()
        for run_result in result.run_results.values():
            for item in run_result.results:
                verdicts[str(item.expectation_config.id)] = bool(item.success)
    return verdicts


if __name__ == "__main__":
    project, *urls = sys.argv[1:]
    print(json.dumps({url: run(project, url) for url in urls}))
