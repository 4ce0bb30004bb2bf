"""Hostile pull requests: nothing from the checked repository runs, Jinja stays in its
sandbox, YAML is loaded safely, tokens never leak, and repository text cannot inject markup,
mentions, Mermaid directives or workflow commands into any output format.

Every case counts toward the figures printed at the end (executed markers, leaked tokens,
unescaped injections: all must be zero for the tests to pass).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gitrepo import GitRepo

from impact_check.sql.jinja import Target, render_model

REPO = Path(__file__).parent.parent
CLI = Path(sys.executable).parent / "impact-check"  # the console script, as action.yml runs it
FORMATS = ("text", "json", "markdown", "github", "sarif", "junit", "gitlab", "html")
TOKEN = "ghp_MARKERtoken0123456789abcdefSECRET"


def _payloads(marker: Path) -> dict[str, str]:
    """Files that write ``marker`` (+ a suffix) if anything executes or imports them."""
    m = str(marker)
    python = f"open({m!r} + '-{{}}'.format(__name__), 'w').write('ran')\n"
    return {
        # Python the checker could import by accident (cwd on sys.path, site hooks, plugins)
        "sitecustomize.py": python,
        "usercustomize.py": python,
        "conftest.py": python,
        "setup.py": python,
        "impact_check/__init__.py": python,
        "sqlglot.py": python,
        "yaml.py": python,
        "jinja2.py": python,
        "git.py": python,
        # dbt: a Python model, a macro with side effects, hooks, models escaping the sandbox
        "shop/dbt_project.yml": (
            "name: shop\nprofile: shop\n"
            f"on-run-start: \"{{{{ modules.os.system('touch {m}-hook') }}}}\"\n"
            "models:\n  shop:\n"
            f"    +pre-hook: \"{{{{ run_query('copy (select 1) to ''{m}-pre''') }}}}\"\n"
        ),
        "shop/models/py_model.py": f"def model(dbt, session):\n    {python}",
        "shop/macros/evil.sql": (
            "{% macro evil() %}"
            f"{{% do run_query(\"copy (select 1) to '{m}-macro'\") %}}"
            f"{{{{ modules.os.system('touch {m}-macro2') }}}}"
            "{% endmacro %}"
        ),
        "shop/models/calls_macro.sql": "select {{ evil() }} as id",
        "shop/models/globals.sql": (
            f"select '{{{{ cycler.__init__.__globals__.os.system(\"touch {m}-cycler\") }}}}' as id"
        ),
        "shop/models/lipsum.sql": (
            f"select '{{{{ lipsum.__globals__['os'].popen('touch {m}-lipsum').read() }}}}' as id"
        ),
        "shop/models/mro.sql": ("select '{{ ''.__class__.__mro__[1].__subclasses__() }}' as id"),
        "shop/models/self.sql": (
            f"select '{{{{ self.__init__.__globals__.__builtins__.open('{m}-self', 'w') }}}}' as id"
        ),
        "shop/models/adapter.sql": (
            f"{{% do adapter.execute(\"copy (select 1) to '{m}-adapter'\") %}}select 1 as id"
        ),
        "shop/models/namespace.sql": (
            "{% set ns = namespace(x=1) %}"
            f"select '{{{{ ns.__init__.__globals__.os.system('touch {m}-ns') }}}}' as id"
        ),
        "shop/models/attr.sql": ("select '{{ ''|attr('__class__')|attr('__mro__') }}' as id"),
    }


def _markers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if "marker" in p.name)


def test_nothing_from_the_repository_is_executed_or_imported(
    tmp_path: Path, record_figure: Callable[[str, str], None]
) -> None:
    marker = tmp_path / "out" / "marker"
    marker.parent.mkdir()
    repo = GitRepo(tmp_path / "repo")
    repo.commit(
        {"shop/models/base.sql": "select 1 as id\n", "shop/dbt_project.yml": "name: shop\n"}
    )
    repo.git("checkout", "-q", "-b", "feature")
    payloads = _payloads(marker)
    repo.commit(payloads, "hostile")
    env = {**os.environ, "IMPACT_CHECK_DEBUG": "1"}
    runs = [
        [str(CLI), "check", "--base", "main", "--format", "json"],
        [str(CLI), "check", "--base", "main", "--head", "feature", "--format", "text"],
        [str(CLI), "graph", "--format", "mermaid"],
    ]
    outputs = []
    for argv in runs:
        proc = subprocess.run(argv, cwd=repo.root, env=env, capture_output=True, text=True)
        assert proc.returncode in (0, 1), proc.stderr
        outputs.append(proc.stdout)
    code, _out, err = repo.run("check", "--base", "main", "--format", "json")  # in-process too
    assert code in (0, 1), err
    executed = _markers(tmp_path) + _markers(repo.root)
    record_figure(
        "hostile-execution",
        f"hostile execution: {len(payloads)} payload files x {len(runs) + 1} runs, "
        f"{len(executed)} executed markers",
    )
    assert executed == []
    report = json.loads(outputs[0])
    flagged = {f["location"]["file"] for f in report["findings"] if f.get("location")}
    for name in ("globals", "lipsum", "self", "namespace", "mro", "attr", "calls_macro"):
        assert f"shop/models/{name}.sql" in flagged, name  # reported, not silently passed
    assert "shop/models/py_model.py" in {u["file"] for u in report["unanalyzed"]}


def _render(text: str) -> Any:
    return render_model(
        text,
        ref=lambda *a, **k: "main.x",
        source=lambda a, b: f"{a}.{b}",
        this="main.this",
        variables={},
        target=Target(),
    )


SANDBOX_ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ lipsum.__globals__ }}",
    "{{ self.__init__.__globals__ }}",
    "{{ config.__globals__ }}",
    "{{ ref.__globals__ }}",
    "{{ env_var.__code__.co_consts }}",
    "{{ ''|attr('__class__') }}",
    "{{ namespace().__init__.__globals__ }}",
    "{{ request.application.__globals__ }}",
]


@pytest.mark.parametrize("template", SANDBOX_ESCAPES)
def test_jinja_gives_no_access_to_python_internals(template: str) -> None:
    rendered = _render(f"select '{template}' as x")
    text = rendered.sql + (rendered.error or "")
    for leak in ("<class", "<module", "<function", "<built-in", "__builtins__", "os.system"):
        assert leak not in rendered.sql, (template, text)
    assert rendered.error or "__impact_check_macro_" in rendered.sql, (template, text)


def test_jinja_has_no_run_query_adapter_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET_TOKEN", TOKEN)
    monkeypatch.setenv("DBT_PASSWORD", TOKEN)
    monkeypatch.setenv("DBT_SCHEMA", "prod_" + TOKEN)
    for text in (
        "select {{ run_query('select 1') }} as x",
        "select {{ adapter.execute('select 1') }} as x",
        "select '{{ env_var('MY_SECRET_TOKEN') }}' as x",
        "select '{{ env_var('DBT_PASSWORD', 'fallback') }}' as x",
        "select '{{ env_var('DBT_SCHEMA') }}' as x",
    ):
        rendered = _render(text)
        assert TOKEN not in rendered.sql and TOKEN not in str(rendered.unknown)
    assert "fallback" in _render("select '{{ env_var('DBT_PASSWORD', 'fallback') }}'").sql


UNSAFE_CALLS = re.compile(
    r"yaml\.(load|load_all|unsafe_load|full_load)\(|Loader=yaml\.(Loader|FullLoader|UnsafeLoader)"
    r"|\beval\(|\bexec\(|pickle\.loads?\(|marshal\.loads?\(|shell=True|__import__\("
    r"|os\.system\(|os\.popen\("
)


def test_no_unsafe_loading_or_execution_in_the_package() -> None:
    hits = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in sorted((REPO / "impact_check").rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if UNSAFE_CALLS.search(line)
    ]
    assert hits == []
    # import_module is used only with module names from the package's own tables
    dynamic = [
        str(path.relative_to(REPO))
        for path in (REPO / "impact_check").rglob("*.py")
        if "import_module(" in path.read_text()
    ]
    assert sorted(dynamic) == [
        "impact_check/__init__.py",
        "impact_check/report/__init__.py",
        "impact_check/sources/__init__.py",
    ]


def test_yaml_tags_that_would_construct_python_objects_are_refused(tmp_path: Path) -> None:
    repo = GitRepo(tmp_path / "repo")
    repo.commit({"db/V1.sql": "CREATE TABLE raw.t (id INT);\n"})
    repo.git("checkout", "-q", "-b", "feature")
    marker = tmp_path / "yaml-marker"
    repo.commit(
        {
            "shop/dbt_project.yml": f"name: !!python/object/apply:os.system ['touch {marker}']\n",
            "shop/models/m.sql": "select 1 as id",
        }
    )
    _code, report = repo.report("--base", "main")
    assert not marker.exists()
    assert any(u["file"] == "shop/dbt_project.yml" for u in report["unanalyzed"])
