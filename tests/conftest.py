"""Shared pytest configuration.

Release data files (BAO, SN) are read from ``PBUFJAX_DATA_DIR``. CI sets it to
``../shared/data``; when it is unset, the same folder next to the repository is used.
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


def _missing_release_files(names) -> list[str]:
    from pbufjax.data import files

    missing = []
    for name in names:
        for rel in files.dataset_files(name):
            try:
                files.resolve(rel)
            except files.DataFileNotFoundError:
                missing.append(rel)
    return missing


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    """``@pytest.mark.release_files("desi_dr2", ...)``: skip, naming the files, when they are absent
    (tests that read them in a subprocess or through the CLI, where no exception reaches pytest)."""
    from pbufjax.data.files import DataFileNotFoundError

    for mark in item.iter_markers("release_files"):
        missing = _missing_release_files(mark.args)
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
