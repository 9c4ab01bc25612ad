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
``pbufjax.data.fetch("NAME")`` from Python). :func:`fetch_files` downloads with
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
        Path of the first existing copy.

    Raises:
        DataFileNotFoundError: naming the file, every folder searched and the fetch command.
    """
    dirs = search_dirs(data_dir)
    for d in dirs:
        p = d / relpath
        if p.is_file():
            return p
    names = [dataset] if dataset else _datasets_using(relpath)
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
    """sha256 hex digest of a file."""
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
        DataFileHashError: the file differs from the published release.
    """
    entry = release_files().get(relpath)
    if entry is None or not entry.get("sha256"):
        return False
    got = _cached_sha256(Path(path))
    if got != entry["sha256"]:
        names = _datasets_using(relpath)
        how = fetch_command(names[0]) if names else "re-download it"
        raise DataFileHashError(
            f"{path}: sha256 {got} differs from the published release ({entry['sha256']}, {entry['url']}); "
            f"the file is corrupted or modified. Replace it ({how}) or load with verify=False."
        )
    return True


def file_status(relpaths: Iterable[str], data_dir: str | os.PathLike | None = None) -> dict[str, str | None]:
    """Relative path -> resolved absolute path (or None when missing) for each of ``relpaths``."""
    out: dict[str, str | None] = {}
    for rel in relpaths:
        try:
            out[rel] = str(resolve(rel, data_dir))
        except DataFileNotFoundError:
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
        if dest.exists() and force:
            dest.unlink()
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
    "cache_dir",
    "clear_file_caches",
    "dataset_files",
    "describe",
    "fetch_command",
    "fetch_files",
    "file_status",
    "registry",
    "release_files",
    "resolve",
    "search_dirs",
    "sha256",
    "verify",
]
