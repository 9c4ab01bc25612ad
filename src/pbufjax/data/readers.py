"""Readers of the release-file formats: BAO mean files, matrices, flat covariances, SN tables.

Every reader raises :class:`DataFormatError` naming the file and the line of a malformed entry,
or naming the file when it is not UTF-8 text (a binary or wrong file). A path that is not a
regular file (a folder, a FIFO, a dangling link) is refused before it is opened
(:class:`~pbufjax.data.files.DataFileTypeError`), so a FIFO never blocks a read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .files import check_regular_file
from .kinds import BAO_QUANTITIES


class DataFormatError(ValueError):
    """A release file does not have the expected format (the message names file and line)."""


def _float(token: str, path, lineno: int, what: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise DataFormatError(f"{path}, line {lineno}: cannot read {what} from {token!r}") from None


def _not_text(path, exc: UnicodeDecodeError) -> DataFormatError:
    return DataFormatError(f"{path} is not a text table: its bytes are not UTF-8 text ({exc.reason}); "
                           f"is it the right release file, and not a binary or compressed copy?")


def _lines(path):
    """(line number, raw text) of every line of a UTF-8 text file (a regular file, checked first)."""
    check_regular_file(path)
    with open(path, encoding="utf-8") as f:
        try:
            yield from enumerate(f, start=1)
        except UnicodeDecodeError as exc:
            raise _not_text(path, exc) from None


def _read_text(path) -> str:
    """The whole text of a UTF-8 file (a regular file, checked first)."""
    check_regular_file(path)
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except UnicodeDecodeError as exc:
        raise _not_text(path, exc) from None


def _content_lines(path):
    """(line number, stripped text) of non-empty lines that are not ``#`` comments."""
    for i, line in _lines(path):
        s = line.strip()
        if s and not s.startswith("#"):
            yield i, s


def read_bao_mean(path, quantity_map: Mapping[str, str] | None = None):
    """Read a BAO mean file: one ``z value quantity`` per line, ``#`` comments.

    Args:
        path: file path.
        quantity_map: renames applied to the file's quantity names (e.g. BOSS DR12's
            ``DM_over_rs`` -> ``DM_rdfid_over_rs``).

    Returns:
        ``(z, values, quantities)``: two float arrays and a tuple of names.

    Raises:
        DataFormatError: a line without three fields, a non-numeric z or value, or an
            unknown quantity (the message names the file and line, and lists the valid names).
    """
    quantity_map = dict(quantity_map or {})
    zs, vals, qs = [], [], []
    for lineno, s in _content_lines(path):
        parts = s.split()
        if len(parts) != 3:
            raise DataFormatError(f"{path}, line {lineno}: expected 3 fields 'z value quantity', got {len(parts)}: {s!r}")
        z = _float(parts[0], path, lineno, "the redshift")
        v = _float(parts[1], path, lineno, "the value")
        q = quantity_map.get(parts[2], parts[2])
        if q not in BAO_QUANTITIES:
            raise DataFormatError(
                f"{path}, line {lineno}: unknown BAO quantity {parts[2]!r}; valid: {', '.join(BAO_QUANTITIES)}"
            )
        zs.append(z)
        vals.append(v)
        qs.append(q)
    if not zs:
        raise DataFormatError(f"{path}: no data lines")
    return np.array(zs), np.array(vals), tuple(qs)


def read_matrix(path) -> np.ndarray:
    """Read a whitespace-separated square matrix (one row per line, ``#`` comments).

    Raises:
        DataFormatError: a non-numeric entry, rows of different lengths or a non-square
            matrix (naming the file and line).
    """
    rows = []
    first_len = None
    for lineno, s in _content_lines(path):
        parts = s.split()
        row = [_float(t, path, lineno, "a matrix entry") for t in parts]
        if first_len is None:
            first_len = len(row)
        elif len(row) != first_len:
            raise DataFormatError(f"{path}, line {lineno}: row has {len(row)} entries, previous rows have {first_len}")
        rows.append(row)
    if not rows:
        raise DataFormatError(f"{path}: no data lines")
    m = np.array(rows, dtype=np.float64)
    if m.shape[0] != m.shape[1]:
        raise DataFormatError(f"{path}: matrix is {m.shape[0]}x{m.shape[1]}, expected square")
    return m


def read_flat_covariance(path) -> np.ndarray:
    """Read a covariance stored as its size N on the first line, then N*N values.

    This is the format of Union3's ``mag_covmat.txt`` and of Pantheon+'s
    ``Pantheon+SH0ES_STAT+SYS.cov`` (row-major, any whitespace layout).

    Raises:
        DataFormatError: a bad size line, a non-numeric value or a wrong number of values
            (naming the file and, for a bad value, its line).
    """
    text = _read_text(path)
    lines = text.split("\n", 1)
    head = lines[0].strip()
    try:
        n = int(head)
        if n <= 0:
            raise ValueError
    except ValueError:
        raise DataFormatError(f"{path}, line 1: expected the matrix size N (a positive integer), got {head!r}") from None
    body = lines[1] if len(lines) > 1 else ""
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError:
        # slow path: find the offending line
        for lineno, line in enumerate(body.split("\n"), start=2):
            for tok in line.split():
                _float(tok, path, lineno, "a covariance value")
        raise  # pragma: no cover
    if values.size != n * n:
        raise DataFormatError(f"{path}: expected N*N = {n * n} values after the size line (N = {n}), got {values.size}")
    return values.reshape(n, n)


def read_union3(path) -> dict[str, np.ndarray]:
    """Read Union3's ``lcparam_full.txt`` by column position.

    The header names 19 columns but rows hold 18 values; the columns used are read by
    position: ``name zcmb zhel dz mb dmb``.

    Returns:
        dict with ``name`` (array of str), ``zcmb``, ``zhel``, ``dz``, ``mb``, ``dmb``.

    Raises:
        DataFormatError: a row with fewer than 6 fields or a non-numeric field (file and line).
    """
    cols = {k: [] for k in ("name", "zcmb", "zhel", "dz", "mb", "dmb")}
    for lineno, s in _content_lines(path):
        parts = s.split()
        if len(parts) < 6:
            raise DataFormatError(f"{path}, line {lineno}: expected at least 6 fields (name zcmb zhel dz mb dmb), got {len(parts)}")
        cols["name"].append(parts[0])
        for j, key in enumerate(("zcmb", "zhel", "dz", "mb", "dmb"), start=1):
            cols[key].append(_float(parts[j], path, lineno, key))
    if not cols["name"]:
        raise DataFormatError(f"{path}: no data lines")
    return {k: (np.array(v) if k == "name" else np.array(v, dtype=np.float64)) for k, v in cols.items()}


#: Pantheon+ columns read by :func:`read_pantheonplus`.
PANTHEON_COLUMNS = ("zHD", "zHEL", "m_b_corr", "m_b_corr_err_DIAG", "MU_SH0ES", "CEPH_DIST", "IS_CALIBRATOR")


def read_pantheonplus(path) -> dict[str, np.ndarray]:
    """Read ``Pantheon+SH0ES.dat``: a header line of column names, then one row per light curve.

    Returns:
        dict with ``CID`` (str) and the float columns of :data:`PANTHEON_COLUMNS`.

    Raises:
        DataFormatError: missing columns, a row with the wrong number of fields or a
            non-numeric value (file and line).
    """
    header = None
    rows = []
    for lineno, line in _lines(path):
        s = line.strip()
        if not s:
            continue
        if header is None:
            header = s.lstrip("#").split()
            missing = [c for c in ("CID",) + PANTHEON_COLUMNS if c not in header]
            if missing:
                raise DataFormatError(f"{path}, line {lineno}: header lacks column(s) {missing}")
            idx = {c: header.index(c) for c in ("CID",) + PANTHEON_COLUMNS}
            continue
        parts = s.split()
        if len(parts) != len(header):
            raise DataFormatError(f"{path}, line {lineno}: expected {len(header)} fields, got {len(parts)}")
        rows.append((lineno, parts))
    if header is None or not rows:
        raise DataFormatError(f"{path}: no header or no data lines")
    out: dict[str, Any] = {"CID": np.array([p[idx["CID"]] for _, p in rows])}
    for c in PANTHEON_COLUMNS:
        out[c] = np.array([_float(p[idx[c]], path, ln, c) for ln, p in rows], dtype=np.float64)
    return out


__all__ = [
    "PANTHEON_COLUMNS",
    "DataFormatError",
    "read_bao_mean",
    "read_flat_covariance",
    "read_matrix",
    "read_pantheonplus",
    "read_union3",
]
