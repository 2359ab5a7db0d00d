"""The suite's shape, as issue 18 set it: a test module per suite module, run state passed, not kept.

Read from the source (ast), so a new module, a `global` or a table filled at run time fails here
before it reaches a review.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conformance.suite import checks

ROOT = Path(__file__).resolve().parents[2]
SUITE = ROOT / "conformance" / "suite"
TESTS = ROOT / "tests" / "suite"
MODULES = sorted(path for path in SUITE.glob("*.py") if path.name != "__init__.py")

MUTATORS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove", "discard", "clear"}
# The one module-level name a function may change: the checks' registry, filled by @check while
# checks.py is imported and frozen as the CHECKS tuple at its end (the test below holds it to that).
IMPORT_TIME_ONLY = {("checks.py", "_REGISTERING")}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def _changed_in_functions(tree: ast.Module, names: set[str]) -> list[tuple[str, int]]:
    """Module-level names a function body changes: a mutating method call, an item set or deleted."""
    changed: set[tuple[str, int]] = set()
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        for node in ast.walk(function):
            target: ast.expr | None = None
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
                target = node.func.value
            elif isinstance(node, ast.Assign | ast.AugAssign | ast.Delete):
                for each in node.targets if isinstance(node, ast.Assign | ast.Delete) else [node.target]:
                    if isinstance(each, ast.Subscript | ast.Attribute):
                        target = each.value
            if isinstance(target, ast.Name) and target.id in names:
                changed.add((target.id, target.lineno))  # a nested function is walked twice: a set
    return sorted(changed)


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_every_suite_module_has_a_test_module_of_its_own(module: Path) -> None:
    mirror = TESTS / f"test_{module.stem}.py"
    assert mirror.is_file(), f"conformance/suite/{module.name} has no tests/suite/{mirror.name}"
    assert "def test_" in mirror.read_text(encoding="utf-8"), f"{mirror.name} holds no test"


@pytest.mark.parametrize("module", MODULES, ids=lambda path: path.name)
def test_no_global_statement_and_no_module_level_state_changed_at_run_time(module: Path) -> None:
    tree = _tree(module)
    statements = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Global | ast.Nonlocal)]
    assert statements == [], f"{module.name}: global/nonlocal at lines {statements}"
    changed = [
        (name, line)
        for name, line in _changed_in_functions(tree, _module_names(tree))
        if (module.name, name) not in IMPORT_TIME_ONLY
    ]
    assert changed == [], f"{module.name}: module-level names changed inside functions: {changed}"


def test_the_checks_registry_is_frozen_once_checks_is_imported() -> None:
    assert isinstance(checks.CHECKS, tuple)
    assert tuple(checks._REGISTERING) == checks.CHECKS  # nothing registered after the import
    assert tuple(registered.name for registered in checks.CHECKS) == checks.NAMES
    assert len(set(checks.NAMES)) == len(checks.NAMES) > 20


def test_the_detector_sees_what_it_forbids(tmp_path: Path) -> None:
    """The scan above is not vacuous: each way of keeping run state in a module is seen."""
    source = (
        "SEEN = []\nCACHE: dict[str, int] = {}\nCOUNT = 0\n"
        "def a(x):\n    SEEN.append(x)\n"
        "def b(k):\n    CACHE[k] = 1\n"
        "def c(k):\n    del CACHE[k]\n"
        "def d():\n    global COUNT\n    COUNT += 1\n"
        "def fine(x):\n    local = []\n    local.append(x)\n    return [*SEEN, local]\n"
    )
    tree = ast.parse(source)
    assert sorted(_changed_in_functions(tree, _module_names(tree))) == [("CACHE", 7), ("CACHE", 9), ("SEEN", 5)]
    assert [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Global)] == [11]
