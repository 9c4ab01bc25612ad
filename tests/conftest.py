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
