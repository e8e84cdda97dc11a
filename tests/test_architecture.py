"""Layers point inward: the core and the metrics never import the CLI, the renderers or their libraries."""

from __future__ import annotations

import ast
from pathlib import Path

import cxbench

PACKAGE = Path(cxbench.__file__).parent
OUTER = {"cxbench.cli", "cxbench.render", "cxbench.docs", "cxbench.api", "cxbench.report", "cxbench.server", "typer",
         "rich", "pandas", "jinja2", "plotly", "fastapi", "starlette", "uvicorn"}
#: the web server's libraries: imported by cxbench.server only
WEB = ("fastapi", "starlette", "uvicorn", "httpx")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_core_metrics_adapters_and_analyses_do_not_import_outer_layers():
    offenders = {}
    for folder in ("core", "metrics", "adapters", "analyses"):
        for path in (PACKAGE / folder).glob("*.py"):
            bad = {n for n in _imports(path) if any(n == o or n.startswith(o + ".") for o in OUTER)}
            if bad:
                offenders[str(path.relative_to(PACKAGE))] = sorted(bad)
    assert offenders == {}


def test_core_does_not_import_the_adapters():
    """Adapters build on the core (sources, validation); the core never reaches out to them."""
    for path in (PACKAGE / "core").glob("*.py"):
        assert not {n for n in _imports(path) if n.startswith("cxbench.adapters")}, path


def test_only_the_cli_imports_typer_and_the_report_imports_no_cli():
    importers = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if any(n == "typer" or n.startswith("typer.") for n in _imports(path))}
    assert importers == {"cli.py"}
    for path in (PACKAGE / "report").glob("*.py"):
        assert not {n for n in _imports(path) if n == "cxbench.cli"}, path


def test_public_api_is_sorted_and_importable():
    assert list(cxbench.__all__) == sorted(cxbench.__all__)
    for name in cxbench.__all__:
        assert getattr(cxbench, name) is not None


def test_only_the_server_imports_the_web_libraries_and_it_imports_no_cli():
    importers = {str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if any(n == w or n.startswith(w + ".") for n in _imports(path) for w in WEB)}
    assert importers and all(name.startswith("server/") for name in importers), importers
    for path in (PACKAGE / "server").glob("*.py"):
        assert not {n for n in _imports(path) if n == "cxbench.cli" or n == "typer"}, path
    for path in [*(PACKAGE / "report").glob("*.py"), PACKAGE / "api.py"]:
        assert not {n for n in _imports(path) if n.startswith("cxbench.server")}, path
