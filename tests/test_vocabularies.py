"""No status literal lives outside its enumeration: code, templates and tests compare with the
members of the Labelled enumerations (docs/architecture.md), never with a bare string of their value.
"""
import ast
import re
from pathlib import Path

import pytest

import marac.models  # noqa: F401  (declares every enumeration)
from marac.core.enums import vocabularies

ROOT = Path(__file__).resolve().parent.parent
# Argument and attribute names that hold a vocabulary's value.
VOCABULARY_NAMES = re.compile(r"(^|_)(status|role|roles|kind|outcome|decision|cadence|category|risk_level|criterion)$")


def vocabulary_values():
    return {member.value for enum in vocabularies() for member in enum}


def _name(node):
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Call):
        return _name(node.func)
    return ""


def _literals(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []


def literal_uses(path, values):
    """(line, literal) where a vocabulary value is compared with, or passed as, a vocabulary name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            named = any(VOCABULARY_NAMES.search(_name(side)) for side in sides)
            for side in sides:
                found += [(node.lineno, v) for v in _literals(side) if v in values and named]
        elif isinstance(node, ast.keyword) and node.arg and VOCABULARY_NAMES.search(node.arg):
            found += [(node.value.lineno, v) for v in _literals(node.value) if v in values]
    return found


TEMPLATE_COMPARISON = re.compile(r"""(?:==|!=|\bin)\s*\(?\s*(['"])([a-z_]+)\1""")


def python_files():
    return sorted(p for folder in ("marac", "tests", "benchmarks") for p in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_python_compares_with_enumerations(path):
    found = literal_uses(path, vocabulary_values())
    assert not found, f"use the enumeration member instead of: {found}"


def test_templates_compare_with_enumerations():
    values = vocabulary_values()
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            found += [f"{path.relative_to(ROOT)}:{number}: {m.group(2)!r}"
                      for m in TEMPLATE_COMPARISON.finditer(line) if m.group(2) in values]
    assert not found, "use the enumeration member (a Jinja global) instead of: " + "; ".join(found)


def test_the_check_finds_a_literal(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text('def f(case, roles):\n    return case.status == "accepted" or "manager" in roles\n')
    assert literal_uses(module, {"accepted", "manager"}) == [(2, "accepted"), (2, "manager")]
