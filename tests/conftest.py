"""Shared pytest configuration.

Release data files (BAO, SN) are read from ``PBUFJAX_DATA_DIR``. CI sets it to
``../shared/data``; when it is unset, the same folder next to the repository is used.
"""

import os
from pathlib import Path

_DEFAULT_DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config):
    if not os.environ.get("PBUFJAX_DATA_DIR") and _DEFAULT_DATA_DIR.is_dir():
        os.environ["PBUFJAX_DATA_DIR"] = str(_DEFAULT_DATA_DIR)
