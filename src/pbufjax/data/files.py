"""Registry of public release files: where they live, where they come from, their sha256.

The measurements behind the BAO and supernova datasets are public release files
that are never shipped with the package. Each one is known by its path inside a
*data directory* (for example ``bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt``),
its public URL and its sha256 (the table ``release_files.json`` in
``pbufjax.tables``).

A file is looked up in these folders, in order (:func:`search_dirs`):

1. the ``data_dir`` argument, when one is given;
2. the environment variable ``PBUFJAX_DATA_DIR``, when set;
3. the user cache folder (:func:`cache_dir`: ``PBUFJAX_CACHE_DIR`` when set, else the
   platform cache folder chosen by pooch, e.g. ``~/.cache/pbufjax``).

A missing file raises :class:`DataFileNotFoundError`, which names the file, every
folder searched and the command that fetches it (``pbufjax data fetch NAME``, or
``pbufjax.data.fetch("NAME")`` from Python). The first folder holding an entry at the
file's path is the one used: an entry that is not a regular file (a folder, a FIFO, a
socket, a dangling symbolic link) raises :class:`DataFileTypeError` naming it, rather than
being skipped, opened (a FIFO would block) or reported as missing. :func:`fetch_files` downloads with
pooch and checks the sha256 (:func:`pbufjax.data.fetch` does it by dataset name or alias).

``PBUFJAX_DATA_DIR`` is read in one place, :func:`search_dirs` (the documented fallback
after an explicit ``data_dir``); nothing else in the package reads it.

Example:
    >>> from pbufjax.data import files
    >>> files.fetch_files(files.dataset_files("desi_dr2"))          # doctest: +SKIP
    >>> files.resolve("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt")  # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

from ..runtime import register_cache

#: Environment variable naming a data directory.
ENV_DATA_DIR = "PBUFJAX_DATA_DIR"
#: Environment variable overriding the user cache folder.
ENV_CACHE_DIR = "PBUFJAX_CACHE_DIR"


class DataFileNotFoundError(FileNotFoundError):
    """A release file is in none of the searched folders (the message says how to fetch it)."""


class DataFileHashError(ValueError):
    """A release file's sha256 differs from the published one."""


class DataFileTypeError(OSError):
    """A release file's path holds something that is not a regular file: a folder, a FIFO,
    a socket, a device or a dangling symbolic link (the message names the path and what it is)."""


def file_problem(path: str | os.PathLike) -> str | None:
    """What keeps ``path`` from being read as a file, without opening it.

    Symbolic links are followed; nothing is opened, so a FIFO does not block.

    Args:
        path: a file path.

    Returns:
        None for a regular file (or a link to one), else a phrase such as ``"does not
        exist"``, ``"is a directory"``, ``"is a FIFO (named pipe)"`` or ``"is a dangling
        symbolic link (to /gone)"``.

    Example:
        >>> file_problem("/")
        'is a directory'
    """
    p = os.fspath(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        if os.path.islink(p):
            return f"is a dangling symbolic link (to {os.readlink(p)})"
        return "does not exist"
    except OSError as exc:
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory"
    if stat.S_ISFIFO(mode):
        return "is a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "is a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device"
    return "is not a regular file"


def check_regular_file(path: str | os.PathLike, hint: str = "") -> Path:
    """``path`` as a :class:`~pathlib.Path` when it is a regular file (links followed).

    Called before any release file is opened for hashing or reading.

    Args:
        path: a file path.
        hint: what to do about it, appended to the message.

    Raises:
        FileNotFoundError: nothing at ``path``.
        DataFileTypeError: ``path`` is a folder, FIFO, socket, device or dangling link.
    """
    problem = file_problem(path)
    if problem is None:
        return Path(path)
    text = f"{path} {problem}" + ("" if problem.startswith("cannot") else ", not a regular file") + hint
    if problem == "does not exist":
        raise FileNotFoundError(text)
    raise DataFileTypeError(text)


@functools.lru_cache(maxsize=1)
def registry() -> dict:
    """The release-file table (``pbufjax.tables/release_files.json``), parsed once."""
    text = resources.files("pbufjax.tables").joinpath("release_files.json").read_text(encoding="utf-8")
    return json.loads(text)


def release_files() -> dict[str, dict]:
    """Relative path -> ``{"source", "url", "sha256", ...}`` for every registered file."""
    return registry()["files"]


def dataset_files(name: str) -> list[str]:
    """Relative paths of the release files a dataset reads.

    Args:
        name: canonical dataset name with release files (e.g. ``desi_dr2``).

    Raises:
        KeyError: unknown name (the message lists the datasets that have release files).
    """
    table = registry()["datasets"]
    if name not in table:
        raise KeyError(f"no release files registered for {name!r}; datasets with release files: {', '.join(table)}")
    return list(table[name])


def cache_dir() -> Path:
    """User cache folder for fetched files: ``$PBUFJAX_CACHE_DIR`` or the platform's user cache
    folder (``platformdirs.user_cache_dir('pbufjax')``, the folder of pooch's ``os_cache``;
    platformdirs imports in milliseconds, pooch only when a file is fetched)."""
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("pbufjax"))


def fetch_command(name: str) -> str:
    """The shell command that downloads a dataset's files."""
    return f"pbufjax data fetch {name}"


def _datasets_using(relpath: str) -> list[str]:
    return [n for n, fs in registry()["datasets"].items() if relpath in fs]


def resolve(relpath: str, data_dir: str | os.PathLike | None = None, *, dataset: str | None = None) -> Path:
    """Absolute path of a release file, searched in :func:`search_dirs`.

    Args:
        relpath: path inside a data directory (a key of :func:`release_files`, or any
            relative path for unregistered files).
        data_dir: explicit data directory, searched first.
        dataset: dataset name used in the error message's fetch command.

    Returns:
        Path of the first copy found.

    Raises:
        DataFileNotFoundError: naming the file, every folder searched and the fetch command.
        DataFileTypeError: the first entry found at the file's path is not a regular file
            (a folder, FIFO, socket or dangling link); the message names it.
    """
    dirs = search_dirs(data_dir)
    names = [dataset] if dataset else _datasets_using(relpath)
    for d in dirs:
        p = d / relpath
        if p.is_file():
            return p
        if os.path.lexists(p):
            fix = f"pbufjax data fetch {names[0]} --force --data-dir {d}" if names else "the published file"
            check_regular_file(p, f"; remove it or replace it ({fix})")
    entry = release_files().get(relpath)
    lines = [f"release file {relpath!r} not found.", "Folders searched:"]
    lines += [f"  - {d / relpath}" for d in dirs]
    if names:
        lines.append("Fetch it with:  " + "   or   ".join(fetch_command(n) for n in names))
        lines.append(f"(from Python: pbufjax.data.fetch({names[0]!r}))")
    if entry:
        lines.append(f"Source: {entry['url']}")
    lines.append(f"Or point {ENV_DATA_DIR} (or the data_dir argument) at a folder holding {relpath!r}.")
    raise DataFileNotFoundError("\n".join(lines))


def sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """sha256 hex digest of a file.

    Raises:
        FileNotFoundError: nothing at ``path``.
        DataFileTypeError: ``path`` is not a regular file (it is not opened).
    """
    check_regular_file(path)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


_HASH_CACHE: dict[tuple, str] = {}


@functools.partial(register_cache, "data.files")
def clear_file_caches() -> None:
    """Forget the parsed release-file table and the remembered sha256 of files (keyed on path, size, mtime)."""
    _HASH_CACHE.clear()
    registry.cache_clear()


def _cached_sha256(path: Path) -> str:
    check_regular_file(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = sha256(path)
    return _HASH_CACHE[key]


def verify(relpath: str, path: str | os.PathLike) -> bool:
    """Check a file against its registered sha256.

    Returns:
        True when the hash matches, False when the registry has no hash for the file.

    Raises:
        DataFileHashError: the file differs from the published release; the message says how
            to replace it from the command line and from Python, and how to use a deliberately
            modified copy (Python only: ``verify=False``; the command line always checks).
        DataFileTypeError: ``path`` is not a regular file.
    """
    entry = release_files().get(relpath)
    if entry is None or not entry.get("sha256"):
        return False
    got = _cached_sha256(Path(path))
    if got != entry["sha256"]:
        raise DataFileHashError(
            f"{path}: sha256 {got} differs from the published release ({entry['sha256']}, {entry['url']}); "
            f"the file is corrupted or modified. {_mismatch_hint(relpath, Path(path))}"
        )
    return True


def _mismatch_hint(relpath: str, path: Path) -> str:
    """What to do about a modified file, from the command line and from Python."""
    names = _datasets_using(relpath)
    parts = Path(relpath).parts
    folder = path.parents[len(parts) - 1] if path.parts[-len(parts):] == parts else None
    if names:
        cli = f"pbufjax data fetch {names[0]} --force" + (f" --data-dir {folder}" if folder else "")
        py = f"pbufjax.data.fetch({names[0]!r}" + (f", {str(folder)!r}" if folder else "") + ", force=True)"
        replace = f"Replace it with the published file: {cli} (from Python: {py})."
    else:
        replace = f"Replace it with the published file ({release_files()[relpath]['url']})."
    return (f"{replace} To use a deliberately modified copy, load it from Python with verify=False "
            f"(e.g. load_dataset(name, verify=False)); the command line has no such switch and always checks.")


def file_status(relpaths: Iterable[str], data_dir: str | os.PathLike | None = None) -> dict[str, str | None]:
    """Relative path -> resolved absolute path (or None when missing) for each of ``relpaths``."""
    out: dict[str, str | None] = {}
    for rel in relpaths:
        try:
            out[rel] = str(resolve(rel, data_dir))
        except (DataFileNotFoundError, DataFileTypeError):  # an unusable entry counts as missing
            out[rel] = None
    return out


def fetch_files(
    relpaths: Iterable[str],
    data_dir: str | os.PathLike | None = None,
    *,
    force: bool = False,
    progressbar: bool = False,
) -> list[Path]:
    """Download registered release files and verify their sha256.

    Files already present (in any searched folder) with the right hash are not
    downloaded again. New files go to ``data_dir`` when given, else to
    :func:`cache_dir`.

    Args:
        relpaths: registered relative paths (keys of :func:`release_files`).
        data_dir: folder to download into (default: the user cache folder).
        force: download even when a verified copy exists.
        progressbar: show pooch's progress bar.

    Returns:
        Paths of the files, in the order given.

    Raises:
        KeyError: an unregistered path.
        DataFileHashError: a downloaded file has the wrong sha256.
        DataFileTypeError: without ``force``, a copy found is not a regular file (with
            ``force`` one in the target folder is replaced, unless it is a folder).
    """
    files = release_files()
    rels = list(relpaths)
    unknown = [r for r in rels if r not in files]
    if unknown:
        raise KeyError(f"unregistered release file(s) {unknown}; registered: {', '.join(files)}")
    import pooch

    target = Path(data_dir).expanduser() if data_dir is not None else cache_dir()
    out: list[Path] = []
    for rel in rels:
        entry = files[rel]
        if not force:
            try:
                p = resolve(rel, data_dir)
                if entry.get("sha256") is None or verify(rel, p):
                    out.append(p)
                    continue
            except (DataFileNotFoundError, DataFileHashError):
                pass
        dest = target / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        known = f"sha256:{entry['sha256']}" if entry.get("sha256") else None
        if force and os.path.lexists(dest):
            if dest.is_dir() and not dest.is_symlink():
                raise DataFileTypeError(f"{dest} is a directory, not a regular file; remove it and fetch again")
            dest.unlink()  # a modified file, a FIFO, a dangling link: replaced by the download
        path = pooch.retrieve(
            url=entry["url"], known_hash=known, fname=dest.name, path=dest.parent, progressbar=progressbar
        )
        if known is None:
            import warnings

            warnings.warn(
                f"{rel}: no published sha256 is registered; downloaded unverified (sha256 {sha256(path)})",
                stacklevel=2,
            )
        out.append(Path(path))
    return out


def describe(names: Iterable[str] | None = None) -> list[dict]:
    """One row per registered file: relative path, URL, sha256 and the datasets using it."""
    files = release_files()
    rels: Sequence[str] = list(names) if names is not None else list(files)
    return [{"path": r, **files[r], "datasets": _datasets_using(r)} for r in rels]


# ---------------------------------------------------------------------------
# Where release files are looked for: the one place PBUFJAX_DATA_DIR is read
# ---------------------------------------------------------------------------


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for release files, in order (duplicates removed).

    Args:
        data_dir: explicit data directory, searched first.

    Returns:
        ``[data_dir, $PBUFJAX_DATA_DIR, cache_dir()]`` without the unset ones.
    """
    out: list[Path] = []
    for d in (data_dir, os.environ.get(ENV_DATA_DIR) or None, cache_dir()):
        if d is None:
            continue
        p = Path(d).expanduser()
        if p not in out:
            out.append(p)
    return out


__all__ = [
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "DataFileHashError",
    "DataFileNotFoundError",
    "DataFileTypeError",
    "cache_dir",
    "check_regular_file",
    "clear_file_caches",
    "dataset_files",
    "describe",
    "fetch_command",
    "fetch_files",
    "file_problem",
    "file_status",
    "registry",
    "release_files",
    "resolve",
    "search_dirs",
    "sha256",
    "verify",
]
