"""Imports run downwards only: the layer order of docs/architecture.md, checked on every module.

Every `import` and `from ... import` of a marac module is read from the source (imports inside
functions included), so an upward import anywhere fails here, not in review.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "marac"

# Lowest first. Packages on one line are peers: they may import each other.
LAYERS = [
    {"core", "extensions"},
    {"audit", "jobs", "health"},
    {"keys"},
    {"agencies"},
    {"users", "auth", "notifications"},
    {"panels"},
    {"people"},
    {"sharing"},
    {"cases"},
    {"meetings", "actions", "asb", "mace"},
    {"packs", "transfers"},
    {"auditor", "backup", "disclosures", "home", "retention", "stats", "subjects"},
    {"demo"},
    {"cli", "models", "__init__"},
]
LAYER_OF = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# The files a domain package may hold: the standard anatomy, plus named helpers listed in
# docs/architecture.md for the packages that need them.
ANATOMY = {"__init__.py", "models.py", "services.py", "forms.py", "routes.py", "cli.py"}
EXTRA_MODULES = {
    "auth": {"passwords.py", "sessions.py", "throttle.py", "totp.py"},
    "cases": {"questions.py"},
    "packs": {"content.py"},
    "keys": {"keyring.py", "rotation.py"},
    "demo": {"asb.py", "cases.py", "meetings.py", "people.py", "scale.py"},
    "disclosures": {"processing.py"},
    "stats": {"figures.py", "suppression.py", "charts.py", "exports.py"},
    "subjects": {"content.py"},
}


def unit_of(path):
    """The layer unit of a module: its package under marac/, or its own name at the top."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return parts[0]


def imported_units(path):
    """(line, unit) of every marac module the file imports, at any depth of the code."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}:{node.lineno}: use absolute imports (from marac....)")
            module = node.module or ""
            names = [f"{module}.{alias.name}" for alias in node.names] if module == "marac" else [module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "marac" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


def modules():
    return sorted(ROOT.rglob("*.py"))


def test_every_unit_has_a_layer():
    units = {unit_of(path) for path in modules()}
    assert units <= set(LAYER_OF), f"add to LAYERS and docs/architecture.md: {sorted(units - set(LAYER_OF))}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_run_downwards(path):
    source = unit_of(path)
    upward = [f"line {line}: {source} imports {target}" for line, target in imported_units(path)
              if target != source and LAYER_OF.get(target, len(LAYERS)) > LAYER_OF[source]]
    assert not upward, "; ".join(upward)


def test_the_check_would_catch_an_upward_import(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text("def f():\n    from marac.cases.models import Case\n    import marac.meetings.services\n")
    assert [target for _, target in imported_units(module)] == ["cases", "meetings"]


def test_domain_packages_have_the_same_anatomy():
    odd = []
    for package in sorted(p for p in ROOT.iterdir() if p.is_dir() and p.name not in ("core", "__pycache__")):
        allowed = ANATOMY | EXTRA_MODULES.get(package.name, set())
        odd += [f"{package.name}/{f.name}" for f in package.glob("*.py") if f.name not in allowed]
        odd += [f"{package.name}/{d.name}/" for d in package.iterdir() if d.is_dir() and d.name != "__pycache__"]
    assert not odd, f"not part of a package's anatomy (see docs/architecture.md): {odd}"
