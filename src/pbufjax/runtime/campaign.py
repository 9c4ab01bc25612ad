"""Campaigns that survive: batch results streamed to disk chunk by chunk, and resumed.

A *campaign* is one batch job (mock fits, a profile grid, many starts) whose results are
written to a folder as they are computed, one file per chunk, so that a run killed at any
point loses at most the chunk in flight.

The folder::

    manifest.json        format, configuration of the job, chunk plan, package version
    chunk-000000.npz     the per-case outputs of chunk 0 (rows 0 .. chunk_size-1)
    chunk-000001.npz     ...

Every file is written to a temporary name in the same folder, flushed to disk (``fsync``)
and renamed over its final name (``os.replace``, atomic on POSIX), so a file under a final
name is always complete. A chunk counts as done when its file exists and reads back: the
zip container checks a CRC-32 of every array, and the chunk records its index, its rows and
the digest of the configuration. The manifest is written once when the campaign starts and
once when it ends (``complete``), never per chunk, so the cost per chunk is one file.

Resume rule
-----------
``resume=True`` on a folder with a manifest continues it: the recorded configuration must
equal the new one (every key: model, datasets, free parameters, fixed values, seed, size,
method and options, package version, digest of the data), the chunk size is the recorded
one, and the chunks already on disk are read instead of recomputed. Per-case random keys
depend only on the global case index and the seed (``fold_in(PRNGKey(seed), i)``), and the
chunks are the same rows run by the same compiled program, so a resumed campaign ends with
arrays bit-identical to an uninterrupted one (on the same number of devices; another device
count gives the same results to rounding, and is logged). ``resume=True`` on a missing or
empty folder starts the campaign, so a job script may always pass it.

Refused with :class:`CampaignError` (a ``ValueError``; nothing is written or removed): an
existing campaign without ``resume``, another configuration (the message lists the keys that
differ), a manifest or chunk that does not read back (corrupted), a folder that is not a
campaign, an explicit chunk size other than the recorded one.

Memory
------
A campaign run holds at most two chunks of outputs in host memory (the one being written on a
background thread, the one just computed); :meth:`Campaign.assemble`
concatenates the per-case arrays from the files at the end (a few numbers per case: about
50 bytes per 2-parameter mock fit, 50 MB for 10⁶ fits), and :meth:`Campaign.iter_chunks`
streams them one chunk at a time for summaries of any size.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write
from .clock import utc_now
from .jsonio import to_jsonable
from .stored_programs import array_digest as _array_digest

logger = logging.getLogger(__name__)

#: Value of ``manifest["format"]``.
FORMAT = "pbufjax-campaign"
#: Version of the folder layout.
FORMAT_VERSION = 1
#: Name of the manifest file in a campaign folder.
MANIFEST = "manifest.json"


class CampaignError(ValueError):
    """A campaign folder that cannot be started or resumed (other configuration, corrupted, exists)."""


def normalized(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` as the JSON the manifest holds (so a new configuration compares with a stored one)."""
    return json.loads(json.dumps(to_jsonable(dict(config)), sort_keys=True))


def digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the normalized configuration (recorded in every chunk)."""
    return hashlib.sha256(json.dumps(normalized(config), sort_keys=True).encode()).hexdigest()


def array_digest(arrays: Mapping[str, Any] | Sequence[Any]) -> str:
    """SHA-256 of arrays (a mapping in key order, each key hashed with its array): the one array
    fingerprint of :func:`pbufjax.runtime.stored_programs.array_digest`."""
    items = sorted(arrays.items()) if isinstance(arrays, Mapping) else enumerate(arrays)
    return _array_digest(*[x for key, value in items for x in (str(key), value)])


def _differences(old: Mapping, new: Mapping) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k, "<absent>") != new.get(k, "<absent>")]


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Campaign:
    """A campaign folder: configuration, chunk plan and the chunk files (see the module docstring).

    Creating the object touches nothing; :meth:`begin` checks the folder and starts or resumes.

    Args:
        path: the campaign folder.
        config: everything the results depend on (JSON-able values).
        resume: continue an existing campaign of the same configuration.

    Example:
        >>> import tempfile
        >>> folder = Path(tempfile.mkdtemp()) / "run"
        >>> c = Campaign(folder, {"kind": "demo", "n": 5})
        >>> c.begin(n=5, chunk_size=2, n_devices=1)
        2
        >>> for i in range(c.n_chunks):
        ...     c.write(i, [np.arange(i * 2, min(i * 2 + 2, 5))])
        >>> c.finish()
        >>> Campaign(folder, {"kind": "demo", "n": 5}, resume=True).load()[0].tolist()
        [0, 1, 2, 3, 4]
    """

    def __init__(self, path: str | os.PathLike, config: Mapping[str, Any], *, resume: bool = False):
        self.path = Path(path)
        self.config = normalized(config)
        self.digest = digest(self.config)
        self.resume = bool(resume)
        self.n = self.chunk_size = self.n_chunks = 0
        self.done: set[int] = set()
        self.resumed = 0
        self.manifest: dict[str, Any] = {}

    # -- opening ------------------------------------------------------------------------

    def _read_manifest(self) -> dict[str, Any]:
        try:
            doc = json.loads((self.path / MANIFEST).read_text())
        except (OSError, ValueError) as exc:
            raise CampaignError(f"campaign {self.path}: {MANIFEST} is corrupted ({exc}); remove the folder to "
                                f"start again") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT or "config" not in doc:
            raise CampaignError(f"campaign {self.path}: {MANIFEST} is not a pbufjax campaign manifest")
        if doc.get("format_version") != FORMAT_VERSION:
            raise CampaignError(f"campaign {self.path}: format version {doc.get('format_version')!r}, this "
                                f"pbufjax reads version {FORMAT_VERSION}")
        return doc

    def check(self) -> None:
        """Check that :meth:`begin` can start or resume here (before any expensive work).

        Raises:
            CampaignError: as :meth:`begin` (existing campaign without ``resume``, other
                configuration, corrupted manifest, a folder that is not a campaign).
        """
        if (self.path / MANIFEST).exists():
            if not self.resume:
                raise CampaignError(f"{self.path} holds a campaign from an earlier run: resume it (--resume, "
                                    f"resume=True) or remove it; nothing was overwritten")
            old = self._read_manifest()
            diff = _differences(old["config"], self.config)
            if diff:
                what = "; ".join(f"{k}: {_short(old['config'].get(k))} -> {_short(self.config.get(k))}" for k in diff)
                raise CampaignError(f"cannot resume {self.path}: it was run with another configuration ({what}); "
                                    f"use another output or remove it")
        elif self.path.exists() and (not self.path.is_dir() or any(self.path.iterdir())):
            raise CampaignError(f"{self.path} exists and is not a campaign folder (no {MANIFEST}); give a new or "
                                f"empty folder")

    def begin(self, n: int, chunk_size: int, n_devices: int = 1, *, explicit: bool = False,
              info: Mapping[str, Any] | None = None) -> int:
        """Start or resume the campaign of ``n`` cases; return the chunk size to run with.

        Args:
            n: number of cases.
            chunk_size: the chunk size planned for this run (used when the campaign starts).
            n_devices: devices of this run (recorded; a resume on another count is logged).
            explicit: ``chunk_size`` was given by the caller (then it must equal a recorded one).
            info: more facts to record in the manifest (e.g. ``n_processes``).

        Raises:
            CampaignError: see the module docstring.
        """
        self.check()
        self.n = int(n)
        if (self.path / MANIFEST).exists():
            old = self._read_manifest()
            plan = old.get("plan", {})
            if int(plan.get("n", -1)) != self.n:
                raise CampaignError(f"cannot resume {self.path}: it has {plan.get('n')} cases, this run {self.n}")
            size = int(plan["chunk_size"])
            if explicit and int(chunk_size) != size:
                raise CampaignError(f"cannot resume {self.path} with chunk size {chunk_size}: it was run with chunks "
                                    f"of {size} (omit the chunk size or give {size})")
            if int(plan.get("n_devices", n_devices)) != int(n_devices):
                logger.warning("resuming %s on %d device(s); it was started on %d: results agree to rounding, "
                               "not bit for bit", self.path, n_devices, plan.get("n_devices"))
            self.manifest = old
            self._set_plan(size)
            self.done = {i for i in range(self.n_chunks) if self._chunk_ok(i)}
            self.resumed = len(self.done)
            logger.info("resuming %s: %d of %d chunk(s) on disk", self.path, self.resumed, self.n_chunks)
            return size
        self._set_plan(int(chunk_size))
        self.path.mkdir(parents=True, exist_ok=True)
        self.manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "config": self.config,
                         "digest": self.digest, "plan": {"n": self.n, "chunk_size": self.chunk_size,
                                                         "n_chunks": self.n_chunks, "n_devices": int(n_devices)},
                         "info": to_jsonable(dict(info or {})), "created": utc_now(), "complete": False}
        self._write_manifest()
        return self.chunk_size

    def _set_plan(self, size: int) -> None:
        self.chunk_size = max(int(size), 1)
        self.n_chunks = max(-(-self.n // self.chunk_size), 1)

    def _write_manifest(self) -> None:
        text = json.dumps(to_jsonable(self.manifest), indent=1, sort_keys=True).encode()
        atomic_write(self.path / MANIFEST, lambda fh: fh.write(text))

    # -- chunks -------------------------------------------------------------------------

    def rows(self, i: int) -> tuple[int, int]:
        """``(start, stop)`` of chunk ``i``."""
        return i * self.chunk_size, min((i + 1) * self.chunk_size, self.n)

    def chunk_path(self, i: int) -> Path:
        """File of chunk ``i``."""
        return self.path / f"chunk-{i:06d}.npz"

    def _chunk_ok(self, i: int) -> bool:
        if not self.chunk_path(i).exists():
            return False
        self.read(i)  # raises CampaignError when the file does not read back
        return True

    def write(self, i: int, leaves: Sequence[np.ndarray]) -> None:
        """Write the outputs of chunk ``i`` (one array per output leaf, rows of the chunk only)."""
        start, stop = self.rows(i)
        arrays = {f"leaf{j}": np.asarray(a) for j, a in enumerate(leaves)}
        bad = [k for k, a in arrays.items() if a.shape[:1] != (stop - start,)]
        if bad:
            raise ValueError(f"chunk {i} output(s) {bad} do not have {stop - start} rows")
        meta = np.array([i, start, stop, len(arrays)], np.int64)
        # no folder fsync per chunk: a chunk whose rename is lost in a power cut is simply recomputed;
        # the folder is synced with the manifest at the end
        atomic_write(self.chunk_path(i), lambda fh: np.savez(fh, _meta=meta, _digest=np.array(self.digest),
                                                              **arrays), sync_dir=False)
        self.done.add(i)

    def read(self, i: int) -> list[np.ndarray]:
        """The output arrays of chunk ``i``.

        Raises:
            CampaignError: the file does not read back (corrupted), or belongs to another
                configuration or chunk.
        """
        path = self.chunk_path(i)
        start, stop = self.rows(i)
        try:
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
            raise CampaignError(f"campaign {self.path}: chunk file {path.name} is corrupted ({exc}); remove it to "
                                f"recompute that chunk") from None
        meta = data.pop("_meta", None)
        dig = data.pop("_digest", None)
        if meta is None or dig is None or str(dig) != self.digest or meta[:3].tolist() != [i, start, stop]:
            raise CampaignError(f"campaign {self.path}: chunk file {path.name} belongs to another configuration or "
                                f"chunk plan (corrupted folder); remove it to recompute that chunk")
        leaves = [data[f"leaf{j}"] for j in range(int(meta[3]))]
        if any(a.shape[:1] != (stop - start,) for a in leaves):
            raise CampaignError(f"campaign {self.path}: chunk file {path.name} has the wrong number of rows")
        return leaves

    def iter_chunks(self) -> Iterator[tuple[int, list[np.ndarray]]]:
        """``(start row, output arrays)`` of every chunk in order, read one at a time."""
        for i in range(self.n_chunks):
            yield self.rows(i)[0], self.read(i)

    def assemble(self) -> list[np.ndarray]:
        """Every output leaf over all ``n`` cases, filled chunk by chunk into preallocated arrays.

        Raises:
            CampaignError: a chunk is missing or corrupted.
        """
        missing = [i for i in range(self.n_chunks) if i not in self.done]
        if missing:
            raise CampaignError(f"campaign {self.path}: chunk(s) {missing[:5]} not written yet")
        out: list[np.ndarray] | None = None
        for start, leaves in self.iter_chunks():
            if out is None:
                out = [np.empty((self.n, *a.shape[1:]), a.dtype) for a in leaves]
            for full, a in zip(out, leaves):
                full[start:start + a.shape[0]] = a
        return out or []

    def finish(self, info: Mapping[str, Any] | None = None) -> None:
        """Mark the campaign complete in its manifest (with ``info`` recorded)."""
        self.manifest["complete"] = True
        self.manifest["finished"] = utc_now()
        self.manifest.setdefault("info", {}).update(to_jsonable(dict(info or {})))
        self._write_manifest()

    def load(self) -> list[np.ndarray]:
        """Open an existing campaign read-only and return :meth:`assemble` (for a finished folder)."""
        doc = self._read_manifest()
        self.config, self.digest = doc["config"], doc["digest"]
        self.n = int(doc["plan"]["n"])
        self._set_plan(int(doc["plan"]["chunk_size"]))
        self.done = {i for i in range(self.n_chunks) if self._chunk_ok(i)}
        return self.assemble()


__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST", "Campaign", "CampaignError", "array_digest", "atomic_write",
           "digest", "normalized"]
