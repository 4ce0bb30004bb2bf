"""Packaging: the compiled sqlglot is a default dependency where its wheels exist."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

PYPROJECT = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())


def _requirements(items: list[str]) -> list[Requirement]:
    return [Requirement(item) for item in items]


def test_compiled_sqlglot_is_a_default_dependency_with_the_same_pin() -> None:
    deps = _requirements(PYPROJECT["project"]["dependencies"])
    plain = next(r for r in deps if r.name == "sqlglot" and not r.extras)
    compiled = next(r for r in deps if r.name == "sqlglot" and r.extras == {"c"})
    assert str(plain.specifier).startswith("==")
    assert compiled.specifier == plain.specifier
    fast = _requirements(PYPROJECT["project"]["optional-dependencies"]["fast"])
    assert [(r.name, r.extras, r.specifier) for r in fast] == [("sqlglot", {"c"}, plain.specifier)]


@pytest.mark.parametrize(
    ("environment", "compiled"),
    [
        ({"python_version": "3.11", "sys_platform": "linux", "platform_machine": "x86_64"}, True),
        ({"python_version": "3.13", "sys_platform": "linux", "platform_machine": "aarch64"}, True),
        ({"python_version": "3.12", "sys_platform": "darwin", "platform_machine": "arm64"}, True),
        ({"python_version": "3.12", "sys_platform": "win32", "platform_machine": "AMD64"}, True),
        # no sqlglotc wheel for these: pure Python (the fast extra builds it from source)
        ({"python_version": "3.10", "sys_platform": "linux", "platform_machine": "x86_64"}, False),
        ({"python_version": "3.12", "sys_platform": "win32", "platform_machine": "ARM64"}, False),
        ({"python_version": "3.12", "sys_platform": "linux", "platform_machine": "s390x"}, False),
        (
            {
                "python_version": "3.12",
                "sys_platform": "linux",
                "platform_machine": "x86_64",
                "platform_python_implementation": "PyPy",
            },
            False,
        ),
    ],
)
def test_compiled_sqlglot_marker(environment: dict[str, str], compiled: bool) -> None:
    deps = _requirements(PYPROJECT["project"]["dependencies"])
    marker = next(r for r in deps if r.extras == {"c"}).marker
    assert isinstance(marker, Marker)
    full = {"platform_python_implementation": "CPython", **environment}
    assert marker.evaluate(full) is compiled


def test_networkx_is_a_dependency() -> None:
    names = {r.name for r in _requirements(PYPROJECT["project"]["dependencies"])}
    assert "networkx" in names
