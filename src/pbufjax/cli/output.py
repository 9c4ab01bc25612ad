"""What the command line prints and writes: exit codes, one-line errors, tables, JSON, progress.

Every ``--json`` output and every ``--output`` file follows the package's one JSON
convention (:mod:`pbufjax.runtime.jsonio`: strict JSON, non-finite numbers written as
``"inf"``, ``"-inf"``, ``"nan"``).

Exit codes: :data:`EXIT_OK` 0 success; :data:`EXIT_NOT_CONVERGED` 1 a fit that did not
converge or a failed check; :data:`EXIT_USAGE` 2 bad usage or input (one line naming the
problem and the valid choices); :data:`EXIT_INTERNAL` 3 an unexpected internal error.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..runtime import dumps as _runtime_dumps
from ..runtime import from_jsonable, to_jsonable

EXIT_OK = 0
EXIT_NOT_CONVERGED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3


class UsageError(Exception):
    """Bad usage or input: reported as one line, exit code 2."""


def jsonable(obj: Any) -> Any:
    """Plain-JSON version of a results structure (:func:`pbufjax.runtime.to_jsonable`).

    Objects with no JSON form are written as their ``str``, so a report never fails on them.

    Example:
        >>> jsonable({"chi2": float("inf"), "ok": True})
        {'chi2': 'inf', 'ok': True}
    """
    return to_jsonable(obj, strict=False)


def dumps(obj: Any) -> str:
    """Strict JSON text (indent 2) of ``obj``, as printed by ``--json``."""
    return _runtime_dumps(obj, indent=2, strict=False)


def message(exc: BaseException) -> str:
    """One line: the exception's message with newlines folded."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]
    else:
        text = str(exc) or type(exc).__name__
    return " ".join(ln.strip() for ln in text.splitlines() if ln.strip())


def emit(text: str) -> None:
    """Write ``text`` (and a newline) to stdout."""
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def check_output_path(path: str | os.PathLike | None, flag: str = "--output") -> None:
    """Refuse an output path that is a folder or lies in a folder that cannot be written.

    Raises:
        UsageError: naming the flag, the path and what is wrong.
    """
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{flag} {path} is a directory; give a file name (e.g. {p / 'results.json'})")
    existing = p.parent if str(p.parent) else Path(".")
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"{flag} {path}: folder {existing} is not writable")


def write_json(path: str | os.PathLike, obj: Any, *, suffix: str | None = None) -> Path:
    """Write ``obj`` as JSON to ``path`` atomically (folders created).

    Args:
        path: destination.
        obj: results structure.
        suffix: required file suffix (e.g. ``".json"``), or None for any.

    Raises:
        UsageError: wrong suffix, or the file cannot be written.
    """
    from ..store import atomic_write_json

    if suffix is not None and Path(path).suffix != suffix:
        raise UsageError(f"--output must be a {suffix} file, got {path}")
    try:
        return atomic_write_json(path, jsonable(obj))
    except OSError as exc:
        raise UsageError(f"cannot write --output file {path}: {exc.strerror or exc}") from None


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file written by :func:`write_json`; numeric lists become float arrays.

    ``"inf"``/``"-inf"``/``"nan"`` (and ``null`` inside a numeric list, as older files wrote
    NaN) become floats.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: ``path`` is not valid JSON.
    """
    import json

    import numpy as np

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        doc = from_jsonable(json.loads(path.read_text()))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None

    def arrays(x):
        if isinstance(x, dict):
            return {k: arrays(v) for k, v in x.items()}
        if isinstance(x, list) and x and all(isinstance(v, (int, float, type(None), list)) for v in x):
            try:
                return np.array([np.nan if v is None else v for v in x], dtype=float)
            except (ValueError, TypeError):
                return x
        return x

    return arrays(doc)


def fmt(x: Any, digits: int = 6) -> str:
    """A number with ``digits`` significant digits (anything else as ``str``)."""
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return str(f)
    return f"{f:.{digits}g}"


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return fmt(v)
    return str(v)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?inf|nan|-|", text))


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Plain-text table with aligned columns (numbers right-aligned).

    Example:
        >>> print(format_table(["name", "value"], [["H0", 67.4]]))
        name  value
        ----  -----
        H0     67.4
    """
    rows = [[_cell(v) for v in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, v in enumerate(r):
            widths[i] = max(widths[i], len(v))
    numeric = [bool(rows) and all(_looks_numeric(r[i]) for r in rows) for i in range(len(headers))]

    def line(cells):
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *(line(r) for r in rows)])


@contextlib.contextmanager
def progress(text: str, enabled: bool):
    """A spinner with elapsed time on stderr while a long step runs (terminals only)."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as prog:
        prog.add_task(text, total=None)
        yield


@contextlib.contextmanager
def quiet_loggers(names: Sequence[str]):
    """Raise the given loggers to ERROR for the duration of the block."""
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def say(text: str, args) -> None:
    """Print ``text`` unless ``--quiet`` (``--json`` output is always printed)."""
    if not getattr(args, "quiet", False) or getattr(args, "json", False):
        emit(text)


__all__ = [
    "EXIT_INTERNAL",
    "EXIT_NOT_CONVERGED",
    "EXIT_OK",
    "EXIT_USAGE",
    "UsageError",
    "check_output_path",
    "dumps",
    "emit",
    "fmt",
    "format_table",
    "jsonable",
    "message",
    "progress",
    "quiet_loggers",
    "read_json",
    "say",
    "write_json",
]
