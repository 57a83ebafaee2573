"""Every public service function says in one line what it does and why (docs/architecture.md):
a newcomer reads the services to learn the rules, so each one must explain itself."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "marac"
# The modules that hold rules: every package's services, the key operations and the core blocks.
RULE_MODULES = sorted([*ROOT.glob("*/services.py"), ROOT / "keys" / "rotation.py", *ROOT.glob("core/*.py")])


def undocumented(path):
    """Public top-level functions and classes of a module (and public methods of its classes) without a docstring."""
    tree = ast.parse(path.read_text())
    missing = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            if not ast.get_docstring(node):
                missing.append(f"{node.name} (line {node.lineno})")
            if isinstance(node, ast.ClassDef):
                missing += [f"{node.name}.{m.name} (line {m.lineno})" for m in node.body
                            if isinstance(m, ast.FunctionDef) and not m.name.startswith("_")
                            and not ast.get_docstring(m)]
    return missing


@pytest.mark.parametrize("path", RULE_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_rule_modules_are_documented(path):
    assert not undocumented(path), f"add a one-line docstring to: {undocumented(path)}"
