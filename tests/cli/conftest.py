"""Shared fixtures of the command-line tests."""

from __future__ import annotations

import pytest

from pbufjax import cli


@pytest.fixture
def run(monkeypatch, tmp_path, capsys):
    """Run the CLI in-process in ``tmp_path`` with the store ``tmp_path/store``; return (code, out, err).

    (``test_cli.py`` overrides it with a version that also points at the release data.)
    """
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PBUFJAX_STORE_DIR", str(tmp_path / "store"))

    def _run(*argv):
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run
