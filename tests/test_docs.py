"""Documentation that runs: the README, every page of documents/ and every docstring example are doctests.

A markdown page is run whole with :func:`doctest.testfile`, one test per page, in a fresh interpreter; its ``>>>``
examples share one namespace, top to bottom, the way a reader would type them. Code fences (lines starting with three backticks) are
read as blank lines, so an example's expected output ends at its fence and the line numbers stay those of the
file. Pages whose examples need release data read them from ``$PBUFJAX_DATA_DIR`` (CI: ``../shared/data``), the
data folder of every other test, and are skipped with that reason when the folder lacks them.

The docstring examples of every module under ``src/pbufjax`` are collected with :class:`doctest.DocTestFinder`
and run one test per module; a module that fails to import is a failure.
"""

from __future__ import annotations

import doctest
import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import pbufjax

ROOT = Path(__file__).resolve().parents[1]
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE

# Pages whose examples take minutes (several cold compiles of full fits): run in the slow selection.
SLOW_PAGES = {"pbuf_vs_lcdm.md"}

# Release files a page's examples read (relative to the data folder); the Planck priors ship with the package.
NEEDS_DATA = ("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt", "sn/union3/lcparam_full.txt")
PAGES_WITHOUT_DATA = {"physics_core.md", "pbuf_model.md", "architecture.md"}

_FENCE = re.compile(r"^\s*(```|~~~)")


class MarkdownParser(doctest.DocTestParser):
    """A :class:`doctest.DocTestParser` that reads markdown code fences as blank lines."""

    def parse(self, string, name="<string>"):
        lines = ["" if _FENCE.match(line) else line for line in string.split("\n")]
        return super().parse("\n".join(lines), name)


def _pages():
    pages = [ROOT / "README.md", *sorted((ROOT / "documents").rglob("*.md"))]
    params = []
    for page in pages:
        if not re.search(r"^>>> ", page.read_text(encoding="utf-8"), flags=re.MULTILINE):
            continue
        marks = [pytest.mark.slow] if page.name in SLOW_PAGES else []
        params.append(pytest.param(page, id=str(page.relative_to(ROOT)), marks=marks))
    return params


def _have_data() -> bool:
    """The pages' release files are in the data folder or among the package's shipped copies."""
    from pbufjax.data import files

    try:
        return all(files.resolve(f).is_file() for f in NEEDS_DATA)
    except files.DataFileNotFoundError:
        return False


_RUN_PAGE = """
import doctest, sys
sys.path.insert(0, sys.argv[2])
from test_docs import FLAGS, MarkdownParser
failed, attempted = doctest.testfile(sys.argv[1], module_relative=False, optionflags=FLAGS, parser=MarkdownParser())
print(f"{failed} of {attempted} examples failed")
sys.exit(1 if failed or not attempted else 0)
"""


@pytest.mark.parametrize("page", _pages())
def test_markdown_page(page, tmp_path):
    """Run one page's examples, in a fresh interpreter (a page that registers a model, dataset or solver
    must not change the registries the other tests see), in an empty folder (for the files it writes)."""
    if page.name not in PAGES_WITHOUT_DATA and not _have_data():
        pytest.skip(f"needs the release files {NEEDS_DATA} under $PBUFJAX_DATA_DIR")
    env = {**os.environ, "PBUFJAX_STORE_DIR": str(tmp_path / "store")}
    run = subprocess.run([sys.executable, "-c", _RUN_PAGE, str(page), str(Path(__file__).parent)],
                         check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    report = run.stdout[-20000:] + run.stderr[-5000:]
    assert run.returncode == 0, f"{page.relative_to(ROOT)}: doctest failures:\n{report}"


def test_every_page_has_examples_or_none_were_expected():
    """Each page with a Python block writes it as a doctest (``>>>``), so no example goes unrun."""
    for page in [ROOT / "README.md", *sorted((ROOT / "documents").rglob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for block in re.findall(r"^```(?:python|pycon|py)\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
            assert ">>>" in block, f"{page.relative_to(ROOT)}: a python block without doctest prompts"


def _modules():
    """Every module of the package, found from the files (collection imports nothing, so an import error is a
    failing test, not a collection error)."""
    src = Path(pbufjax.__file__).parent
    names = []
    for path in sorted(src.rglob("*.py")):
        parts = path.relative_to(src.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples(name):
    module = importlib.import_module(name)  # a module that fails to import fails here
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    for test in tests:
        if test.examples:
            runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"
