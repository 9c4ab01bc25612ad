"""The package's shape, held by tests: small modules, no import cycles, no use of another module's
private names, thin public re-export modules, every declared dependency used.

(The layer contracts themselves are import-linter contracts in pyproject.toml, checked by
``lint-imports`` in CI.)
"""
import ast
import io
import re
import tokenize
import tomllib
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "pbufjax"
MAX_CODE_LINES = 400

#: The API reference's module names and the other pre-redesign module names: thin modules that
#: only import from the layers and set ``__all__``.
FACADES = ["engine", "optimizer", "parameter", "parameter_store", "likelihoods", "datasets", "data_registry",
           "statistics", "integrity", "logging_utils", "plots", "batch", "sample", "sharding", "cli_sampling",
           "config", "aot_cache", "compile_cache"]

#: Declared dependencies that the package needs without importing them itself, and why.
INDIRECT = {
    "flatbuffers": "jax.export serializes stored programs with it and does not declare it",
}


def code_lines(path: Path) -> int:
    """Lines holding code: docstrings, comments and blank lines not counted."""
    src = path.read_text()
    tree = ast.parse(src)
    doc = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(
                    first.value.value, str):
                doc.update(range(first.lineno, first.end_lineno + 1))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(src).readline):
        if tok.type not in skip:
            lines.update(n for n in range(tok.start[0], tok.end[0] + 1) if n not in doc)
    return len(lines)


MODULES = sorted(SRC.rglob("*.py"))


def test_code_line_counter_counts_code_only(tmp_path):
    f = tmp_path / "m.py"
    f.write_text('"""Doc\n\nstring."""\n# comment\n\nx = 1\n\n\ndef f():\n    """Doc."""\n    return (1,\n            2)\n')
    assert code_lines(f) == 4


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_module_over_400_code_lines(path):
    assert code_lines(path) <= MAX_CODE_LINES


def test_no_import_cycle():
    graph = grimp.build_graph("pbufjax", exclude_type_checking_imports=True)
    mods = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in mods}
    index, low, stack, on, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for m in mods:
        if m not in index:
            visit(m)
    assert cycles == []


def _private_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    imported = set()
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    out.append(f"line {node.lineno}: from {node.module} import {a.name}")
                imported.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            imported.update((a.asname or a.name).split(".")[0] for a in node.names)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in imported
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            out.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SRC)))
def test_no_use_of_another_modules_private_names(path):
    assert _private_uses(path) == []


def test_private_use_check_can_fail(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("from . import optimizer as _opt\nfrom .x import _hidden\ny = _opt._t(1)\n")
    assert len(_private_uses(f)) == 2


@pytest.mark.parametrize("name", FACADES)
def test_public_modules_only_reexport(name):
    tree = ast.parse((SRC / f"{name}.py").read_text())
    body = [n for n in tree.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    allowed = (ast.Import, ast.ImportFrom)
    extra = [type(n).__name__ for n in body
             if not isinstance(n, allowed)
             and not (isinstance(n, ast.Assign) and [t.id for t in n.targets if isinstance(t, ast.Name)] == ["__all__"])]
    assert extra == [], f"pbufjax.{name} should hold only imports and __all__"
    assert any(isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "__all__" for n in body)


def test_every_declared_dependency_is_used():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[ ;]", d, maxsplit=1)[0].strip().lower().replace("-", "_") for d in deps}
    graph = grimp.build_graph("pbufjax", include_external_packages=True)
    used = {m.split(".")[0].lower() for m in graph.modules if not m.startswith("pbufjax")}
    unused = sorted(names - used - set(INDIRECT))
    assert unused == [], f"declared but never imported: {unused}"
