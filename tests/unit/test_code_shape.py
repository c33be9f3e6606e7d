"""The code stays in pieces a newcomer can hold (issue 26): no class in `shared/` over 250 lines,
no function over 50, and services never touch the Table SDK (they go through adapters and the
unit of work)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = sorted((ROOT / "shared").rglob("*.py"))
MAX_CLASS, MAX_FUNCTION = 250, 50


def _lengths(path: Path) -> list[tuple[str, int, int]]:
    """(kind, name, lines) of every class and function in a module, nested ones too."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            found.append((kind, node.name, node.end_lineno - node.lineno + 1))
    return found


def oversized(paths: list[Path]) -> list[str]:
    limit = {"class": MAX_CLASS, "function": MAX_FUNCTION}
    return [
        f"{p.relative_to(ROOT)}: {kind} {name} has {n} lines (at most {limit[kind]})"
        for p in paths
        for kind, name, n in _lengths(p)
        if n > limit[kind]
    ]


def test_no_class_or_function_in_shared_is_oversized():
    assert oversized(SHARED) == []


def test_the_measure_reports_an_oversized_function_and_class(tmp_path):
    long = tmp_path / "long.py"
    long.write_text("def f():\n" + "    x = 1\n" * 60 + "\n\nclass C:\n" + "    y = 2\n" * 260)
    assert [(kind, name, n) for kind, name, n in _lengths(long)] == [("function", "f", 61), ("class", "C", 261)]


TABLE_CALLS = (
    "query_entities",
    "upsert_entity",
    "create_entity",
    "delete_entity",
    "update_entity",
    "submit_transaction",
)


@pytest.mark.parametrize("path", sorted((ROOT / "shared" / "services").glob("*.py")), ids=lambda p: p.stem)
def test_a_service_does_not_call_the_table_sdk(path: Path):
    tree = ast.parse(path.read_text())
    imports = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module]
    calls = [n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    assert [m for m in imports if m.startswith("azure.data.tables")] == []
    assert [c for c in calls if c in TABLE_CALLS] == []
