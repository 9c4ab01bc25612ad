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
        DataFormatError: a bad size line, a non-numeric or non-finite value or a wrong number
            of values (naming the file and, for a bad value, its line or entry).
    """
    return _flat_square(_read_text(path), path)


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


# --- DES-SN5YR and DES-Dovekie ---------------------------------------------

#: Columns of the DES-SN5YR Hubble diagram ``DES-SN5YR_HD.csv`` read by :func:`read_desy5_hd`
#: (``CID`` is read as text).
DESY5_COLUMNS = ("IDSURVEY", "zCMB", "zHD", "zHEL", "MU", "MUERR_FINAL")

#: Columns of the DES-Dovekie Hubble diagram ``DES-Dovekie_HD.csv`` read by :func:`read_dovekie_hd`.
DOVEKIE_COLUMNS = ("Index", "IDSURVEY", "zHD", "zHEL", "MU", "MUERR", "MUERR_VPEC", "MUERR_SYS", "PROBIA_BEAMS")


def read_csv_table(path, columns, text_columns=()) -> dict[str, np.ndarray]:
    """Read a comma-separated table: one header line of column names, then one row per line.

    Blank lines are skipped. Every value of ``columns`` must be a finite number.

    Args:
        path: file path.
        columns: names of the numeric columns to return (any order; others are ignored).
        text_columns: names of columns returned as text (e.g. a candidate id).

    Returns:
        dict column name -> array (float64 for ``columns``, str for ``text_columns``).

    Raises:
        DataFormatError: a header lacking a column, a row with another number of fields than
            the header, a non-numeric or non-finite value, no data rows (file and line named).
    """
    header = idx = None
    rows = []
    for lineno, line in _lines(path):
        s = line.strip()
        if not s:
            continue
        if header is None:
            header = [c.strip() for c in s.split(",")]
            missing = [c for c in (*text_columns, *columns) if c not in header]
            if missing:
                raise DataFormatError(f"{path}, line {lineno}: header lacks column(s) {missing}; "
                                      f"it names {header}")
            idx = {c: header.index(c) for c in (*text_columns, *columns)}
            continue
        parts = [p.strip() for p in s.split(",")]
        if len(parts) != len(header):
            raise DataFormatError(f"{path}, line {lineno}: expected {len(header)} comma-separated fields "
                                  f"({', '.join(header)}), got {len(parts)}")
        rows.append((lineno, parts))
    if header is None or not rows:
        raise DataFormatError(f"{path}: no header or no data lines")
    out: dict[str, np.ndarray] = {c: np.array([p[idx[c]] for _, p in rows]) for c in text_columns}
    for c in columns:
        vals = []
        for lineno, p in rows:
            v = _float(p[idx[c]], path, lineno, c)
            if not np.isfinite(v):
                raise DataFormatError(f"{path}, line {lineno}: {c} is {p[idx[c]]!r}, not a finite number")
            vals.append(v)
        out[c] = np.array(vals, dtype=np.float64)
    return out


def read_desy5_hd(path) -> dict[str, np.ndarray]:
    """Read the DES-SN5YR Hubble diagram ``DES-SN5YR_HD.csv`` (DES Collaboration 2024, arXiv:2401.02929).

    Columns: ``CID`` (text), ``IDSURVEY`` (10 = DES; 5, 61-66, 150 = the low-redshift CSP,
    CfA and Foundation samples), ``zCMB``, ``zHD`` (CMB frame with peculiar-velocity
    corrections), ``zHEL``, ``MU`` (distance modulus for :math:`H_0 = 70`) and ``MUERR_FINAL``
    (its statistical uncertainty).

    Returns:
        dict with ``CID`` (str) and the float columns of :data:`DESY5_COLUMNS`.

    Raises:
        DataFormatError: see :func:`read_csv_table`.
    """
    return read_csv_table(path, DESY5_COLUMNS, ("CID",))


def read_dovekie_hd(path) -> dict[str, np.ndarray]:
    """Read the DES-Dovekie Hubble diagram ``DES-Dovekie_HD.csv`` (Popovic et al. 2025, arXiv:2511.07517).

    Columns: ``Index`` (row number, the order of the covariance), ``IDSURVEY``, ``zHD``,
    ``zHEL``, ``MU``, ``MUERR`` (statistical), ``MUERR_VPEC``, ``MUERR_SYS`` (diagnostic:
    square root of the systematic covariance's diagonal) and ``PROBIA_BEAMS``.

    Returns:
        dict with the float columns of :data:`DOVEKIE_COLUMNS`.

    Raises:
        DataFormatError: see :func:`read_csv_table`.
    """
    return read_csv_table(path, DOVEKIE_COLUMNS)


def _flat_square(text: str, path) -> np.ndarray:
    """The N x N matrix of a text holding N on its first line, then N*N finite values (row-major)."""
    head, _, body = text.partition("\n")
    try:
        n = int(head.strip())
        if n <= 0:
            raise ValueError
    except ValueError:
        raise DataFormatError(f"{path}, line 1: expected the matrix size N (a positive integer), "
                              f"got {head.strip()[:40]!r}") from None
    try:
        values = np.array(body.split(), dtype=np.float64)
    except ValueError:
        for lineno, line in enumerate(body.split("\n"), start=2):
            for tok in line.split():
                _float(tok, path, lineno, "a covariance value")
        raise  # pragma: no cover
    if values.size != n * n:
        raise DataFormatError(f"{path}: expected N*N = {n * n} values after the size line (N = {n}), "
                              f"got {values.size}; is the file truncated?")
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i, j = divmod(int(bad[0]), n)
        raise DataFormatError(f"{path}: entry ({i}, {j}) is {values[bad[0]]}, not a finite number "
                              f"({bad.size} non-finite entries)")
    return values.reshape(n, n)


def read_des_covariance(path) -> np.ndarray:
    """Read a DES-SN5YR covariance: N on the first line, then N*N values, plain or gzip-compressed.

    The format of ``STATONLY.txt.gz``, ``STAT+SYS.txt.gz`` (des-science/DES-SN5YR) and of
    Cobaya's ``covsys_000.txt``; compression is recognised from the file's first bytes.

    Returns:
        the N x N float64 matrix (as stored: the DES files hold the systematic part only,
        the statistical ``MUERR_FINAL**2`` is added on the diagonal by the loader).

    Raises:
        DataFormatError: a truncated or corrupt gzip stream, text that is not UTF-8, a bad size
            line, a non-numeric or non-finite value, a wrong number of values (file named).
    """
    import gzip
    import zlib

    check_regular_file(path)
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        try:
            with gzip.open(path, "rt", encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError as exc:
            raise _not_text(path, exc) from None
        except (EOFError, OSError, zlib.error) as exc:
            raise DataFormatError(f"{path}: cannot decompress the gzip stream ({exc}); "
                                  f"the file is truncated or corrupt") from None
    else:
        text = _read_text(path)
    return _flat_square(text, path)


def read_triu_npz(path, *, key: str = "cov", size_key: str = "nsn") -> np.ndarray:
    """Read a symmetric matrix stored as its upper triangle in a NumPy ``.npz`` archive.

    The DES-Dovekie format (``STATONLY.npz``, ``STAT+SYS.npz`` = Cobaya's
    ``covtot_inv_000.npz``): key ``nsn`` holds N, key ``cov`` the N(N+1)/2 entries of the
    upper triangle in ``numpy.triu_indices(N)`` (row-major) order, as float32. For DES-Dovekie
    the matrix is the INVERSE covariance. Read without pickles; returned as float64.

    Args:
        path: file path.
        key: archive member holding the triangle.
        size_key: archive member holding N.

    Returns:
        the N x N symmetric float64 matrix.

    Raises:
        DataFormatError: not a readable ``.npz`` archive (truncated, corrupt, pickled), a
            missing member, a bad N, a wrong number of entries, non-finite entries (file named).
    """
    import zipfile
    import zlib

    check_regular_file(path)
    try:
        z = np.load(path, allow_pickle=False)
        if not isinstance(z, np.lib.npyio.NpzFile):
            raise DataFormatError(f"{path} holds a single array, not an .npz archive with {size_key!r} and {key!r}")
        with z:
            found = list(z.files)
            absent = [k for k in (size_key, key) if k not in found]
            if absent:
                raise DataFormatError(f"{path}: the archive lacks member(s) {absent}; it holds {found}")
            size = np.asarray(z[size_key]).ravel()
            tri = np.asarray(z[key]).ravel()
    except DataFormatError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error) as exc:
        raise DataFormatError(f"{path} is not a readable .npz archive ({exc}); "
                              f"the file is truncated or corrupt") from None
    if size.size != 1 or not np.issubdtype(size.dtype, np.integer) or int(size[0]) <= 0:
        raise DataFormatError(f"{path}: {size_key!r} must hold one positive integer N, got {size!r}")
    n = int(size[0])
    if not np.issubdtype(tri.dtype, np.floating) or tri.size != n * (n + 1) // 2:
        raise DataFormatError(f"{path}: {key!r} must hold the N(N+1)/2 = {n * (n + 1) // 2} upper-triangle "
                              f"values of an N = {n} matrix, got {tri.size} values of type {tri.dtype}")
    bad = np.flatnonzero(~np.isfinite(tri))
    if bad.size:
        rows, cols = np.triu_indices(n)
        raise DataFormatError(f"{path}: entry ({rows[bad[0]]}, {cols[bad[0]]}) is {tri[bad[0]]}, not a finite "
                              f"number ({bad.size} non-finite entries)")
    m = np.zeros((n, n), dtype=np.float64)
    m[np.triu_indices(n)] = tri.astype(np.float64)
    lower = np.tril_indices(n, -1)
    m[lower] = m.T[lower]
    return m


__all__ += [
    "DESY5_COLUMNS",
    "DOVEKIE_COLUMNS",
    "read_csv_table",
    "read_des_covariance",
    "read_desy5_hd",
    "read_dovekie_hd",
    "read_triu_npz",
]


# --- eBOSS DR16 and SDSS MGS ---------------------------------------------------------------------


def read_value_column(path) -> np.ndarray:
    """Read a column of numbers, one per line (``#`` comments, blank lines skipped).

    The format of SDSS DR7 MGS's tabulated :math:`\\chi^2(\\alpha)` (``sdss_MGS_prob.txt``:
    399 values, no header; the grid of :math:`\\alpha` is not in the file).

    Returns:
        1-D float array.

    Raises:
        DataFormatError: a line with more than one field, a non-numeric or non-finite value,
            or no data line (naming the file and line).
    """
    vals = []
    for lineno, s in _content_lines(path):
        parts = s.split()
        if len(parts) != 1:
            raise DataFormatError(f"{path}, line {lineno}: expected one value per line, got {len(parts)} fields: {s!r}")
        v = _float(parts[0], path, lineno, "a value")
        if not np.isfinite(v):
            raise DataFormatError(f"{path}, line {lineno}: value {parts[0]!r} is not finite")
        vals.append(v)
    if not vals:
        raise DataFormatError(f"{path}: no data lines")
    return np.array(vals, dtype=np.float64)


__all__ += ["read_value_column"]
