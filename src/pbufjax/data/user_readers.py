"""The file formats of a user's own SN and BAO data (described in :mod:`pbufjax.data.user`) and the
checks of a user covariance that name the file, the line and the row at fault.

Readers: :func:`read_sn_table` (a header naming the columns, comma or whitespace separated),
:func:`read_bao_table` (``z value quantity [error]`` per line), :func:`read_covariance` (a square
matrix, or N then N*N values, plain or gzip; the release readers
:func:`~pbufjax.data.readers.read_matrix` and :func:`~pbufjax.data.readers.read_des_covariance`).
Each raises :class:`~pbufjax.data.readers.DataFormatError` naming the file and the line.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .files import check_regular_file
from .kinds import BAO_QUANTITIES
from .readers import DataFormatError, read_des_covariance, read_matrix
from .validation import DatasetValidationError

#: SN table columns: role -> accepted names (lower case), the first found is used.
SN_COLUMNS: dict[str, tuple[str, ...]] = {
    "z_cmb": ("zhd", "z_cmb", "zcmb", "z"),
    "z_hel": ("z_hel", "zhel"),
    "mu": ("mu",),
    "m_b": ("m_b", "mb", "m_b_corr"),
    "error": ("mu_err", "muerr_final", "muerr", "dmu", "sigma_mu", "m_b_err", "m_b_corr_err_diag", "dmb", "sigma",
              "err", "error"),
    "name": ("name", "cid", "sn", "id"),
}

PathLike = str | os.PathLike


# ---------------------------------------------------------------------------
# reading the files


def _text_lines(path):
    """(line number, stripped text) of every non-empty line (a regular UTF-8 file)."""
    check_regular_file(path)
    try:
        with open(path, encoding="utf-8") as f:
            lines = [(i, ln.strip()) for i, ln in enumerate(f, start=1)]
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path} is not a text table: its bytes are not UTF-8 text ({exc.reason})") from None
    return [(i, s) for i, s in lines if s]


def _fields(s: str, comma: bool) -> list[str]:
    return [p.strip() for p in s.split(",")] if comma else s.split()


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _number(token: str, path, lineno: int, what: str) -> float:
    try:
        v = float(token)
    except ValueError:
        raise DataFormatError(f"{path}, line {lineno}: cannot read {what} from {token!r}") from None
    if not np.isfinite(v):
        raise DataFormatError(f"{path}, line {lineno}: {what} is {token!r}, not a finite number")
    return v


def read_sn_table(path: PathLike) -> dict[str, Any]:
    """Read a user SN table (format in the module docstring).

    Returns:
        dict with ``z_cmb``, ``z_hel`` (None when absent), ``values``, ``observable`` (``mu`` or
        ``m_b``), ``errors`` (None when absent), ``labels`` (None when absent), ``lines`` (the
        line number of each row) and ``columns`` (role -> column name used).

    Raises:
        DataFormatError: no header, a missing redshift or magnitude column, a row with another
            number of fields than the header, a value that is not a finite number, a redshift
            <= 0, an error <= 0 (naming the file and the line).
    """
    header = prev = None
    rows: list[tuple[int, str]] = []
    for lineno, s in _text_lines(path):
        if s.startswith("#"):
            if header is None:
                prev = (lineno, s.lstrip("#").strip())
            continue
        if header is None:
            if not any(_is_number(f) for f in _fields(s, "," in s)):  # no number: the header
                header = (lineno, s)
                continue
            if prev is None or not prev[1]:
                raise DataFormatError(f"{path}, line {lineno}: no header line naming the columns before the first "
                                      f"row (e.g. 'z_cmb mu mu_err')")
            header = prev
        rows.append((lineno, s))
    if header is None or not rows:
        raise DataFormatError(f"{path}: no header or no data rows")
    hline, htext = header
    comma = "," in htext
    names = _fields(htext, comma)
    lower = [n.lower() for n in names]
    col = {role: next((lower.index(a) for a in aliases if a in lower), None) for role, aliases in SN_COLUMNS.items()}
    obs_role = "mu" if col["mu"] is not None else "m_b"
    for role in ("z_cmb", obs_role):
        if col[role] is None:
            want = SN_COLUMNS["z_cmb"] if role == "z_cmb" else SN_COLUMNS["mu"] + SN_COLUMNS["m_b"]
            what = "redshift" if role == "z_cmb" else "distance modulus or magnitude"
            raise DataFormatError(f"{path}, line {hline}: no {what} column; the header names {names}, expected one "
                                  f"of {', '.join(want)}")
    out: dict[str, Any] = {"lines": np.array([ln for ln, _ in rows]), "observable": obs_role,
                           "columns": {r: names[i] for r, i in col.items() if i is not None}}
    parts = []
    for lineno, s in rows:
        p = _fields(s, comma)
        if len(p) != len(names):
            raise DataFormatError(f"{path}, line {lineno}: expected {len(names)} fields ({', '.join(names)}), "
                                  f"got {len(p)}")
        parts.append(p)
    for role, key in (("z_cmb", "z_cmb"), ("z_hel", "z_hel"), (obs_role, "values"), ("error", "errors")):
        i = col[role]
        if i is None:
            out[key] = None
            continue
        vals = np.array([_number(p[i], path, ln, names[i]) for (ln, _), p in zip(rows, parts)])
        low = {"z_cmb": 0.0, "z_hel": -1.0}.get(role)
        if low is not None and np.any(vals <= low):
            k = int(np.flatnonzero(vals <= low)[0])
            raise DataFormatError(f"{path}, line {rows[k][0]}: {names[i]} = {vals[k]:g} must be > {low:g}")
        if role == "error" and np.any(vals < 0):
            k = int(np.flatnonzero(vals < 0)[0])
            raise DataFormatError(f"{path}, line {rows[k][0]}: {names[i]} = {vals[k]:g} must be >= 0")
        out[key] = vals
    out["labels"] = None if col["name"] is None else [p[col["name"]] for p in parts]
    return out


def read_bao_table(path: PathLike) -> dict[str, Any]:
    """Read a user BAO table: ``z value quantity [error]`` per line (format in the module docstring).

    Returns:
        dict with ``z``, ``values``, ``quantities`` (tuple), ``errors`` (None without a fourth
        column) and ``lines``.

    Raises:
        DataFormatError: a line with other than 3 or 4 fields (or another count than the first
            row), a value that is not a finite number, a redshift <= 0, an error <= 0, an unknown
            quantity (naming the file and the line and listing the valid quantities).
    """
    rows = [(ln, s) for ln, s in _text_lines(path) if not s.startswith("#")]
    if rows and not _is_number(_fields(rows[0][1], "," in rows[0][1])[0]):
        rows = rows[1:]  # a header line
    if not rows:
        raise DataFormatError(f"{path}: no data lines (expected 'z value quantity [error]' per line)")
    width = None
    z, vals, qs, errs = [], [], [], []
    for lineno, s in rows:
        p = _fields(s, "," in s)
        if len(p) not in (3, 4) or (width is not None and len(p) != width):
            want = f"{width}" if width else "3 or 4"
            raise DataFormatError(f"{path}, line {lineno}: expected {want} fields 'z value quantity [error]', "
                                  f"got {len(p)}: {s!r}")
        width = len(p)
        zz = _number(p[0], path, lineno, "the redshift")
        if zz <= 0:
            raise DataFormatError(f"{path}, line {lineno}: redshift {zz:g} must be > 0")
        if p[2] not in BAO_QUANTITIES:
            raise DataFormatError(f"{path}, line {lineno}: unknown BAO quantity {p[2]!r}; valid: "
                                  f"{', '.join(BAO_QUANTITIES)}")
        z.append(zz)
        vals.append(_number(p[1], path, lineno, "the value"))
        qs.append(p[2])
        if width == 4:
            e = _number(p[3], path, lineno, "the error")
            if e <= 0:
                raise DataFormatError(f"{path}, line {lineno}: error {e:g} must be > 0")
            errs.append(e)
    return {"z": np.array(z), "values": np.array(vals), "quantities": tuple(qs),
            "errors": np.array(errs) if errs else None, "lines": np.array([ln for ln, _ in rows])}


def _is_flat(path) -> bool:
    """Whether a covariance file holds N on its first line then N*N values (else: a square matrix)."""
    check_regular_file(path)
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            return True
    lines = [s for _, s in _text_lines(path)]
    head = lines[0].split() if lines else []
    return len(head) == 1 and head[0].isdigit() and len(lines) > 1


def _entry_line(path, flat: bool, k: int) -> int | None:
    """Line number of the k-th matrix value (row-major) of a covariance file (None for a gzip file)."""
    with open(path, "rb") as f:
        if f.read(2) == b"\x1f\x8b":
            return None
    seen = -1 if flat else 0  # the size token comes first in the flat format
    for lineno, s in _text_lines(path):
        if s.startswith("#") and not flat:
            continue
        n = len(s.split())
        if seen + n > k:
            return lineno
        seen += n
    return None


def read_covariance(path: PathLike) -> np.ndarray:
    """Read a covariance file: a square matrix, or N then N*N values (plain or gzip).

    Raises:
        DataFormatError: see :func:`~pbufjax.data.readers.read_matrix` and
            :func:`~pbufjax.data.readers.read_des_covariance` (file and line named).
    """
    return read_des_covariance(path) if _is_flat(path) else read_matrix(path)


# ---------------------------------------------------------------------------
# checks naming the row


class CovarianceSource:
    """Where a covariance came from, for messages: a file (with the line of an entry) or arrays.

    Args:
        name: the dataset's name.
        path: the covariance file (None: an array).
        table: the data table the covariance belongs to (named when the sizes differ).
    """

    def __init__(self, name: str, path=None, table=None):
        self.name, self.path, self.table = name, path, table
        self.flat = _is_flat(path) if path is not None else False

    def at(self, i: int, j: int, n: int) -> str:
        """The message prefix for entry (i, j) (0-based) of an n x n matrix: ``file, line L: covariance``."""
        if self.path is None:
            return f"dataset {self.name!r}: covariance"
        line = _entry_line(self.path, self.flat, i * n + j)
        return f"{self.path}, line {line}: covariance" if line else f"{self.path}: covariance"


def check_user_covariance(cov, n: int, where: CovarianceSource, rtol: float = 1e-8) -> np.ndarray:
    """Check a user covariance (square, size n, finite, symmetric, positive definite), naming the row at fault.

    Returns:
        the covariance as a float64 array.

    Raises:
        DatasetValidationError: naming the file and line (or the dataset) and the row and column.
    """
    c = np.array(cov, dtype=np.float64)
    src = where.path or f"dataset {where.name!r}: covariance"
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise DatasetValidationError(f"{src}: the covariance must be a square matrix, got shape {c.shape}")
    m = c.shape[0]
    if m != n:
        rows = f"{where.table} has {n} data rows" if where.table else f"the data have {n} entries"
        raise DatasetValidationError(f"{src}: the covariance is {m}x{m} but {rows}")
    bad = np.argwhere(~np.isfinite(c))
    if bad.size:
        i, j = (int(x) for x in bad[0])
        raise DatasetValidationError(f"{where.at(i, j, n)} row {i + 1}, column {j + 1} is {c[i, j]}, not a "
                                     f"finite number")
    tol = rtol * np.max(np.abs(c))
    asym = np.argwhere(np.abs(c - c.T) > tol)
    if asym.size:
        i, j = sorted(int(x) for x in asym[0])[::-1]
        raise DatasetValidationError(f"{where.at(i, j, n)} is not symmetric: row {i + 1}, column {j + 1} is "
                                     f"{c[i, j]:.6g} but row {j + 1}, column {i + 1} is {c[j, i]:.6g}")
    diag = np.flatnonzero(np.diag(c) <= 0)
    if diag.size:
        i = int(diag[0])
        raise DatasetValidationError(f"{where.at(i, i, n)} is not positive definite: the variance in row {i + 1}, "
                                     f"column {i + 1} is {c[i, i]:.6g}, not > 0")
    try:
        np.linalg.cholesky(c)
    except np.linalg.LinAlgError:
        lo, hi = 1, n  # the leading k x k blocks are positive definite for k < k0 and not from k0 on
        while lo < hi:
            mid = (lo + hi) // 2
            try:
                np.linalg.cholesky(c[:mid, :mid])
                lo = mid + 1
            except np.linalg.LinAlgError:
                hi = mid
        w = np.linalg.eigvalsh(c)
        raise DatasetValidationError(
            f"{where.at(lo - 1, 0, n)} is not positive definite: row {lo} makes the first {lo} rows and columns "
            f"singular or indefinite (smallest eigenvalue {w[0]:.3g}, largest {w[-1]:.3g})") from None
    return c


__all__ = ["SN_COLUMNS", "CovarianceSource", "check_user_covariance", "read_bao_table", "read_covariance",
           "read_sn_table"]
