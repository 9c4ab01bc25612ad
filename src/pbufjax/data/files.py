"""Registry of public release files: where they live, where they come from, how they are pinned.

The measurements behind the BAO and supernova datasets are public release files.
Each one is known by its path inside a *data directory* (for example
``bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt``), its public URL, its sha256
and its git blob id (the table ``release_files.json`` in ``pbufjax.tables``).

*Shipped* files: the small ones (at most ~200 KB each: DESI DR2/DR1, BOSS DR12, eBOSS
DR16, SDSS MGS, Union3, the DES Hubble diagrams and statistical covariances; entries
with ``"shipped": true``) ship byte-identical inside the package, in
``pbufjax/data/release/<path>`` (:func:`shipped_dir`), so fits need no data folder and no
network. Pantheon+'s light-curve table (579 KB) does not ship: it is useless without its
33 MB covariance, which is fetched anyway, and the two are fetched together.
*Fetched* files: the large covariances are downloaded with pooch into the user cache
(:func:`fetch_files`) and verified there.

A file is looked up in these places, in order:

1. the ``data_dir`` argument, when one is given;
2. the environment variable ``PBUFJAX_DATA_DIR``, when set;
3. the user cache folder (:func:`cache_dir`: ``PBUFJAX_CACHE_DIR`` when set, else the
   platform cache folder chosen by pooch, e.g. ``~/.cache/pbufjax``);
4. the copy inside the package, for a shipped file (not searched when
   ``PBUFJAX_SHIPPED_DATA=0``).

The user's folders (1-3, :func:`search_dirs`) come first, so a copy placed there (a
newer release, a deliberately modified file read with ``verify=False``) is the one used.
A shipped copy is always checked against its sha256 when found (a damaged installation
raises :class:`DataFileHashError` saying to reinstall), whatever ``verify`` says.

A missing file raises :class:`DataFileNotFoundError`, which names the file, every
folder searched and the command that fetches it (``pbufjax data fetch NAME``, or
``pbufjax.data.fetch("NAME")`` from Python). The first folder holding an entry at the
file's path is the one used: an entry that is not a regular file (a folder, a FIFO, a
socket, a dangling symbolic link) raises :class:`DataFileTypeError` naming it, rather than
being skipped, opened (a FIFO would block) or reported as missing.

Pinning: :func:`verify` checks the sha256 when the registry has one, else the git blob
id, the SHA-1 of ``b"blob <size>\\0" + content`` (what ``git hash-object FILE`` prints;
:func:`git_blob`), the only pin available for a large file whose sha256 has never been
computed. :func:`fetch_files` downloads into a temporary folder beside the target,
verifies, and only then moves the file into place: nothing is left in the cache from a
download that fails its check.

``PBUFJAX_DATA_DIR`` is read in one place, :func:`search_dirs`, and
``PBUFJAX_SHIPPED_DATA`` in one place, :func:`shipped_dir`; nothing else in the package
reads them.

Example:
    >>> from pbufjax.data import files
    >>> files.resolve("bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_mean.txt").name
    'desi_gaussian_bao_ALL_GCcomb_mean.txt'
    >>> files.fetch_files(files.dataset_files("pantheonplus"))      # doctest: +SKIP
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
#: Environment variable switching the package's own copies of the small release files off (``0``) or on (``1``).
ENV_SHIPPED_DATA = "PBUFJAX_SHIPPED_DATA"
#: Folder of the copies shipped inside the package (``pbufjax/data/release/<path>``).
SHIPPED_DIR = Path(__file__).resolve().parent / "release"

_OFF = ("0", "false", "no", "off")
_ON = ("", "1", "true", "yes", "on")


class DataFileNotFoundError(FileNotFoundError):
    """A release file is in none of the searched folders (the message says how to fetch it)."""


class DataFileHashError(ValueError):
    """A release file's sha256 (or git blob id) differs from the published one."""


class DataFetchError(OSError):
    """A release file could not be downloaded from any of its URLs (nothing was written)."""


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
    """Absolute path of a release file: the user's folders (:func:`search_dirs`) first, then the package's copy.

    Args:
        relpath: path inside a data directory (a key of :func:`release_files`, or any
            relative path for unregistered files).
        data_dir: explicit data directory, searched first.
        dataset: dataset name used in the error message's fetch command.

    Returns:
        Path of the first copy found: in ``data_dir``, ``$PBUFJAX_DATA_DIR``, the user cache
        (:func:`search_dirs`), then, for a shipped file, inside the package (:func:`shipped_path`).

    Raises:
        DataFileNotFoundError: naming the file, every folder searched and the fetch command.
        DataFileTypeError: the first entry found at the file's path is not a regular file
            (a folder, FIFO, socket or dangling link); the message names it.
        DataFileHashError: the package's own copy differs from the published file (a damaged
            installation; the message says to reinstall). Shipped copies are always checked.
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
    shipped = shipped_path(relpath)
    if shipped is not None and os.path.lexists(shipped):
        _check_shipped(relpath, shipped)
        return shipped
    lines = [f"release file {relpath!r} not found.", "Folders searched:"]
    lines += [f"  - {d / relpath}" for d in dirs]
    if entry and entry.get("shipped"):
        if shipped is None:
            lines.append(f"  (the copy inside the package is not searched: {ENV_SHIPPED_DATA}="
                         f"{os.environ.get(ENV_SHIPPED_DATA)})")
        else:
            lines.append(f"  - {SHIPPED_DIR / relpath} (the package's own copy is missing: the installation is "
                         f"incomplete; reinstall pbufjax)")
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


def git_blob(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Git blob id of a file: the SHA-1 of ``b"blob <size>\\0" + content``.

    It is what ``git hash-object FILE`` prints and what a git host lists for the file, so a
    large release file can be pinned by it before anyone has computed its sha256.

    Raises:
        FileNotFoundError: nothing at ``path``.
        DataFileTypeError: ``path`` is not a regular file (it is not opened).

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     f = pathlib.Path(folder) / "hello.txt"
        ...     _ = f.write_bytes(b"hello\\n")
        ...     git_blob(f)          # what `git hash-object hello.txt` prints
        'ce013625030ba8dba906f756967f9e9ca394464a'
    """
    check_regular_file(path)
    h = hashlib.sha1(usedforsecurity=False)
    h.update(b"blob %d\0" % os.stat(path).st_size)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


_HASH_CACHE: dict[tuple, str] = {}
_DIGESTS = {"sha256": sha256, "git_blob": git_blob}


@functools.partial(register_cache, "data.files")
def clear_file_caches() -> None:
    """Forget the parsed release-file table and the remembered digests of files (keyed on path, size, mtime)."""
    _HASH_CACHE.clear()
    registry.cache_clear()


def _cached_digest(path: Path, kind: str = "sha256") -> str:
    check_regular_file(path)
    st = path.stat()
    key = (kind, str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        _HASH_CACHE[key] = _DIGESTS[kind](path)
    return _HASH_CACHE[key]


def pin(relpath: str) -> tuple[str, str] | None:
    """The digest a registered file is checked against: ``("sha256", hex)`` when the registry
    has its sha256, else ``("git_blob", hex)``; None when it has neither (or is unregistered)."""
    entry = release_files().get(relpath) or {}
    for kind in ("sha256", "git_blob"):
        if entry.get(kind):
            return kind, entry[kind]
    return None


def verify(relpath: str, path: str | os.PathLike) -> bool:
    """Check a file against its registered sha256, or its git blob id when no sha256 is pinned.

    Returns:
        True when the pinned digest matches, False when the registry pins none for the file.

    Raises:
        DataFileHashError: the file differs from the published release; the message says how
            to replace it from the command line and from Python, and how to use a deliberately
            modified copy (Python only: ``verify=False``; the command line always checks).
        DataFileTypeError: ``path`` is not a regular file.
    """
    pinned = pin(relpath)
    if pinned is None:
        return False
    problem = _digest_problem(relpath, Path(path), *pinned)
    if problem:
        raise DataFileHashError(f"{path}: {problem}; the file is corrupted or modified. "
                                f"{_mismatch_hint(relpath, Path(path))}")
    return True


def _digest_problem(relpath: str, path: Path, kind: str, want: str) -> str | None:
    got = _cached_digest(path, kind)
    if got == want:
        return None
    what = "sha256" if kind == "sha256" else "git blob id"
    return f"{what} {got} differs from the published release ({want}, {release_files()[relpath]['url']})"


def _mismatch_hint(relpath: str, path: Path) -> str:
    """What to do about a modified file, from the command line and from Python."""
    names = _datasets_using(relpath)
    if is_shipped_copy(path):
        fetch = f" or fetch a copy into the user cache ({fetch_command(names[0])} --force)" if names else ""
        return f"This is the package's own copy: reinstall pbufjax (pip install --force-reinstall pbufjax){fetch}."
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
    """Relative path -> resolved absolute path (or None when missing) for each of ``relpaths``.

    An unusable entry (not a regular file, or a damaged copy inside the package) counts as
    missing; ``pbufjax data verify`` names what is wrong with it.
    """
    out: dict[str, str | None] = {}
    for rel in relpaths:
        try:
            out[rel] = str(resolve(rel, data_dir))
        except (DataFileNotFoundError, DataFileTypeError, DataFileHashError):
            out[rel] = None
    return out


def fetch_files(
    relpaths: Iterable[str],
    data_dir: str | os.PathLike | None = None,
    *,
    force: bool = False,
    progressbar: bool = False,
) -> list[Path]:
    """Download registered release files and verify them (sha256, else git blob id).

    Files already present (in any searched folder, the package's own copies included) and
    matching their pin are not downloaded again. New files go to ``data_dir`` when given,
    else to :func:`cache_dir`. Each download lands in a temporary folder beside its target,
    is checked against the registry's sha256 when one is pinned (pooch checks it too), else
    against its git blob id (:func:`git_blob`), and only then is moved into place; a file
    that fails the check is deleted, so nothing is kept from a bad download. The URLs
    are tried in order (``url``, then ``mirrors``).

    Args:
        relpaths: registered relative paths (keys of :func:`release_files`).
        data_dir: folder to download into (default: the user cache folder).
        force: download even when a verified copy exists.
        progressbar: show pooch's progress bar.

    Returns:
        Paths of the files, in the order given.

    Raises:
        KeyError: an unregistered path.
        DataFileHashError: every download of a file failed its sha256 or git blob check.
        DataFetchError: a file could be downloaded from none of its URLs (e.g. no network).
        DataFileTypeError: without ``force``, a copy found is not a regular file (with
            ``force`` one in the target folder is replaced, unless it is a folder).
    """
    files = release_files()
    rels = list(relpaths)
    unknown = [r for r in rels if r not in files]
    if unknown:
        raise KeyError(f"unregistered release file(s) {unknown}; registered: {', '.join(files)}")
    target = Path(data_dir).expanduser() if data_dir is not None else cache_dir()
    out: list[Path] = []
    for rel in rels:
        if not force:
            try:
                p = resolve(rel, data_dir)
                if pin(rel) is None or verify(rel, p):
                    out.append(p)
                    continue
            except (DataFileNotFoundError, DataFileHashError):
                pass
        dest = target / rel
        if force and os.path.lexists(dest) and dest.is_dir() and not dest.is_symlink():
            raise DataFileTypeError(f"{dest} is a directory, not a regular file; remove it and fetch again")
        out.append(_download(rel, dest, progressbar))
    return out


def _download(rel: str, dest: Path, progressbar: bool) -> Path:
    """Download ``rel`` to ``dest`` through a temporary folder; move it into place only once verified."""
    import shutil
    import tempfile

    import pooch

    entry = release_files()[rel]
    pinned = pin(rel)
    known = f"sha256:{entry['sha256']}" if entry.get("sha256") else None
    created = [d for d in (dest.parent, *dest.parent.parents) if not d.exists()]
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures: list[tuple[str, BaseException]] = []
    for url in [entry["url"], *entry.get("mirrors", [])]:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.download-", dir=dest.parent))
        try:
            try:
                got = Path(pooch.retrieve(url=url, known_hash=known, fname=dest.name, path=tmp,
                                          progressbar=progressbar))
            except ValueError as exc:  # pooch: the sha256 of the download differs (it deletes the file)
                failures.append((url, DataFileHashError(f"{url}: {exc}") if "hash" in str(exc).lower() else exc))
                continue
            except Exception as exc:  # noqa: BLE001 - network or HTTP error: try the next URL
                failures.append((url, exc))
                continue
            problem = _digest_problem(rel, got, *pinned) if pinned else None
            if problem:
                failures.append((url, DataFileHashError(f"{url}: downloaded file's {problem}")))
                continue
            if pinned is None:
                import warnings

                warnings.warn(f"{rel}: no published sha256 or git blob id is registered; downloaded unverified "
                              f"(sha256 {sha256(got)})", stacklevel=3)
            os.replace(got, dest)  # also replaces a modified file, a FIFO or a dangling link (force)
            if pinned and pinned[0] == "git_blob":
                import logging

                logging.getLogger(__name__).info("%s verified by its git blob id; its sha256 is %s",
                                                 rel, sha256(dest))
            return dest
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    for d in created:  # deepest first: the folders made for this file, when still empty
        try:
            d.rmdir()
        except OSError:
            break
    return _raise_fetch_failure(rel, dest, failures)


def _raise_fetch_failure(rel: str, dest: Path, failures: list[tuple[str, BaseException]]) -> Path:
    lines = "; ".join(f"{url}: {exc}" if not isinstance(exc, DataFileHashError) else str(exc)
                      for url, exc in failures)
    tail = f"nothing was written to {dest}"
    if any(isinstance(exc, DataFileHashError) for _, exc in failures):
        raise DataFileHashError(f"release file {rel!r}: no download matched the published file ({lines}); {tail}")
    raise DataFetchError(f"release file {rel!r} could not be downloaded ({lines}); {tail}. "
                         f"Copy the file there by hand, or point {ENV_DATA_DIR} at a folder holding it.")


def describe(names: Iterable[str] | None = None) -> list[dict]:
    """One row per registered file: relative path, URL, sha256 and the datasets using it."""
    files = release_files()
    rels: Sequence[str] = list(names) if names is not None else list(files)
    return [{"path": r, **files[r], "datasets": _datasets_using(r)} for r in rels]


# ---------------------------------------------------------------------------
# Where release files are looked for: the one place PBUFJAX_DATA_DIR is read
# ---------------------------------------------------------------------------


def search_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The user's folders searched for release files, in order (duplicates removed).

    A shipped file not found in any of them is then taken from the package
    (:func:`shipped_dir`, unless switched off).

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


# ---------------------------------------------------------------------------
# The package's own copies of the small release files: the one place PBUFJAX_SHIPPED_DATA is read
# ---------------------------------------------------------------------------


def shipped_dir() -> Path | None:
    """Folder of the release files shipped inside the package, or None when switched off.

    ``PBUFJAX_SHIPPED_DATA=0`` (or ``false``/``no``/``off``) leaves the package's copies out of
    the search, so that only the user's folders (:func:`search_dirs`) count, e.g. to be sure
    a fit reads a particular folder, or to see what a fetch would download.

    Raises:
        ValueError: ``PBUFJAX_SHIPPED_DATA`` holds another value (the message lists the valid ones).
    """
    value = os.environ.get(ENV_SHIPPED_DATA, "").strip().lower()
    if value in _OFF:
        return None
    if value not in _ON:
        raise ValueError(f"{ENV_SHIPPED_DATA}={os.environ[ENV_SHIPPED_DATA]!r}: expected one of "
                         f"{', '.join(v for v in _OFF + _ON if v)}")
    return SHIPPED_DIR


def shipped_files() -> list[str]:
    """Relative paths of the registered files that ship inside the package (``"shipped": true``)."""
    return [rel for rel, entry in release_files().items() if entry.get("shipped")]


def shipped_path(relpath: str) -> Path | None:
    """Where the package's own copy of ``relpath`` is; None when the file does not ship or
    :func:`shipped_dir` is switched off. The path may not exist (an incomplete installation)."""
    entry = release_files().get(relpath)
    folder = shipped_dir() if entry and entry.get("shipped") else None
    return None if folder is None else folder / relpath


def is_shipped_copy(path: str | os.PathLike) -> bool:
    """True when ``path`` is one of the package's own copies (inside :data:`SHIPPED_DIR`)."""
    try:
        Path(os.path.abspath(path)).relative_to(SHIPPED_DIR)
    except ValueError:
        return False
    return True


def _check_shipped(relpath: str, path: Path) -> None:
    """A shipped copy must be a regular file equal to the published one (checked on every use, cached)."""
    hint = "; reinstall pbufjax (pip install --force-reinstall pbufjax)"
    check_regular_file(path, hint)
    problem = _digest_problem(relpath, path, "sha256", release_files()[relpath]["sha256"])
    if problem:
        raise DataFileHashError(f"{path}: {problem}; the package's own copy is damaged. "
                                f"{_mismatch_hint(relpath, path)}")


__all__ = [
    "ENV_CACHE_DIR",
    "ENV_DATA_DIR",
    "ENV_SHIPPED_DATA",
    "SHIPPED_DIR",
    "DataFetchError",
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
    "git_blob",
    "is_shipped_copy",
    "pin",
    "registry",
    "release_files",
    "resolve",
    "search_dirs",
    "sha256",
    "shipped_dir",
    "shipped_files",
    "shipped_path",
    "verify",
]
