"""Shared pytest configuration.

Release data files (BAO, SN) are read from ``PBUFJAX_DATA_DIR``. CI sets it to
``../shared/data``; when it is unset, the same folder next to the repository is used.
On a fresh clone with neither, the small release files come from the copies shipped in
the package (``pbufjax/data/release``), so loading DESI, BOSS, eBOSS, MGS, Union3 and the DES
statistical datasets works without a data folder; tests needing an absent large file skip.

Fixtures and markers for release files:

* ``@pytest.mark.release_files("desi_dr2", ...)``: skip, naming the files, unless those
  datasets' files are in a data folder (``data_dir``/``PBUFJAX_DATA_DIR``/cache; the
  package's copies do not count, since such tests copy or modify the folder's files).
  ``@pytest.mark.release_files("desi_dr2", shipped=True)`` counts the package's copies too.
* ``no_shipped_data``: the package's copies are switched off (``PBUFJAX_SHIPPED_DATA=0``),
  for tests of what happens when a file is missing.
* ``fresh_install``: no data folder, an empty user cache and the package's copies on,
  as on a machine that has only installed pbufjax.
"""

import os
from pathlib import Path

_DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config):
    given = os.environ.get("PBUFJAX_DATA_DIR")
    if given:
        # absolute, so tests that run the CLI from a temporary folder find the same data
        os.environ["PBUFJAX_DATA_DIR"] = str(Path(given).resolve())
    elif _DEFAULT_DATA_DIR.is_dir():
        os.environ["PBUFJAX_DATA_DIR"] = str(_DEFAULT_DATA_DIR)


# A test that needs a release file absent from the data folder (a fresh clone with no
# ../shared beside it, or a large file nobody fetched) is skipped with the file's name as the
# reason, wherever the file is first needed (fixture or test body). With the data folder
# present (CI), nothing is skipped, so a file the code fails to find is still a failure there.
import pytest  # noqa: E402


def _missing_release_files(names, shipped: bool = False) -> list[str]:
    """The files of ``names`` found in no data folder (nor, with ``shipped``, in the package)."""
    from pbufjax.data import files

    missing = []
    for name in names:
        for rel in files.dataset_files(name):
            try:
                found = files.resolve(rel)
            except files.DataFileNotFoundError:
                missing.append(rel)
                continue
            if files.is_shipped_copy(found) and not shipped:
                missing.append(rel)
    return missing


@pytest.fixture
def no_shipped_data(monkeypatch):
    """Leave the package's copies of the small release files out of the search (only the user's folders count)."""
    monkeypatch.setenv("PBUFJAX_SHIPPED_DATA", "0")


@pytest.fixture
def fresh_install(monkeypatch, tmp_path):
    """No ``PBUFJAX_DATA_DIR``, an empty user cache, the package's copies on; returns the cache folder."""
    cache = tmp_path / "fresh_cache"
    monkeypatch.delenv("PBUFJAX_DATA_DIR", raising=False)
    monkeypatch.delenv("PBUFJAX_SHIPPED_DATA", raising=False)
    monkeypatch.setenv("PBUFJAX_CACHE_DIR", str(cache))
    return cache


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """``@pytest.mark.release_files("desi_dr2", ...)``: skip, naming the files, when they are absent
    (tests that read them in a subprocess or through the CLI, where no exception reaches pytest)."""
    from pbufjax.data.files import DataFileNotFoundError

    for mark in item.iter_markers("release_files"):
        missing = _missing_release_files(mark.args, shipped=bool(mark.kwargs.get("shipped", False)))
        if missing:
            pytest.skip(f"release files absent: {', '.join(missing)}")
    try:
        return (yield)
    except DataFileNotFoundError as exc:
        pytest.skip(f"release file absent: {str(exc).splitlines()[0]}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    from pbufjax.data.files import DataFileNotFoundError

    try:
        return (yield)
    except DataFileNotFoundError as exc:
        pytest.skip(f"release file absent: {str(exc).splitlines()[0]}")
