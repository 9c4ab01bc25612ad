"""Summaries of chains and the sample files (``.npz``, netCDF through arviz, getdist chains).

Summary statistics: mean, standard deviation, median, 16/84% and 2.5/97.5% quantiles,
split-:math:`\\hat R` (Gelman et al. 2013, BDA3 §11.4) and effective sample size
(Geyer 1992 initial monotone sequence, as in Stan) from numpyro's diagnostics.

The metadata of a sample file is strict JSON in the package's one convention
(:mod:`pbufjax.runtime.jsonio`: non-finite numbers as ``"inf"``/``"-inf"``/``"nan"``,
read back as floats), with the UTC time the file was written (``"created"``).

A getdist chain (``format="getdist"``, Lewis 2019, arXiv:1910.13970) is the plain-text
triple ``root.txt`` (rows ``weight, -ln P, parameters...``), ``root.paramnames`` (name and
LaTeX label from :mod:`pbufjax.cosmology.labels`; derived quantities end in ``*``) and
``root.ranges`` (the uniform prior bounds), read by ``getdist.loadMCSamples(root)``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...cosmology.labels import latex
from ...runtime import dumps, from_jsonable, utc_now
from ...runtime.atomic import atomic_write

#: Statistics in each summary entry.
SUMMARY_KEYS = ("mean", "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess")
#: Result entries written as the metadata of a sample file.
META_KEYS = ("summary", "free_params", "derived_params", "model", "datasets", "fixed_params", "priors", "config",
             "timing", "ess_per_second", "figure_of_merit")
#: Sample file extensions.
SAMPLE_FORMATS = (".npz", ".nc")
#: ``format=`` values of :func:`save_samples` (None: from the file extension).
SAVE_FORMATS = ("npz", "netcdf", "getdist")
#: File extensions of a getdist chain root.
GETDIST_SUFFIXES = (".txt", ".paramnames", ".ranges")


def summarize(chains: Mapping[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Summary statistics of chains ``{name: array (num_chains, num_samples)}``.

    Returns:
        ``{name: {"mean", "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess"}}``
        (``r_hat``: split-:math:`\\hat R`; ``ess``: effective sample size over all chains).
    """
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    out = {}
    for k, x in chains.items():
        x = np.asarray(x, np.float64)
        flat = x.reshape(-1)
        q = np.percentile(flat, [2.5, 16, 50, 84, 97.5])
        try:
            rhat = float(split_gelman_rubin(x)) if x.shape[1] >= 4 else float("nan")
            ess = float(effective_sample_size(x)) if x.shape[1] >= 2 else float("nan")
        except (AssertionError, ValueError, FloatingPointError):
            rhat, ess = float("nan"), float("nan")
        out[k] = {"mean": float(flat.mean()), "std": float(flat.std(ddof=1)) if flat.size > 1 else 0.0,
                  "median": float(q[2]), "q16": float(q[1]), "q84": float(q[3]), "q025": float(q[0]),
                  "q975": float(q[4]), "r_hat": rhat, "ess": ess}
    return out


def _bad_extension(path: Path) -> ValueError:
    return ValueError(f"unknown sample file extension {path.suffix!r} ({path}); valid: {', '.join(SAMPLE_FORMATS)}")


def check_sample_path(path: str | Path) -> Path:
    """``path`` as a Path if :func:`save_samples` can write it (checked before any sampling).

    Raises:
        ValueError: an extension other than :data:`SAMPLE_FORMATS` (lists the valid ones).
        ImportError: ``.nc`` without arviz installed.
    """
    path = Path(path)
    if path.suffix not in SAMPLE_FORMATS:
        raise _bad_extension(path)
    if path.suffix == ".nc":
        try:
            import arviz  # noqa: F401
        except ImportError as exc:
            raise ImportError("saving to netCDF (.nc) needs arviz: pip install arviz (or save to .npz)") from exc
    return path


def check_getdist_root(root: str | Path) -> Path:
    """``root`` as a Path if :func:`save_samples` can write a getdist chain there (checked before
    any sampling): its folder exists and is a folder. A ``.txt`` ending is dropped.

    Raises:
        FileNotFoundError: the folder of ``root`` does not exist (named in the message).
        NotADirectoryError: it is not a folder.
        ValueError: an empty root name.
    """
    root = Path(root)
    if root.suffix in GETDIST_SUFFIXES:
        root = root.with_suffix("")
    if not root.name or root.name in (".", ".."):
        raise ValueError(f"getdist output root {str(root)!r} needs a file name (e.g. chains/run1)")
    folder = root.parent
    if not folder.exists():
        raise FileNotFoundError(f"getdist output root {str(root)!r}: folder {str(folder)!r} does not exist "
                                f"(create it first)")
    if not folder.is_dir():
        raise NotADirectoryError(f"getdist output root {str(root)!r}: {str(folder)!r} is not a folder")
    return root


def _getdist_ranges(result: Mapping[str, Any]) -> list[str]:
    lines = []
    for k, p in (result.get("priors") or {}).items():
        if isinstance(p, Mapping) and p.get("type") == "uniform":
            lines.append(f"{k} {float(p['lower']):.17g} {float(p['upper']):.17g}")
    return lines


def _save_getdist(result: Mapping[str, Any], root: str | Path) -> Path:
    root = check_getdist_root(root)
    chains = result.get("chains") or {}
    if not chains:
        raise ValueError("cannot write a getdist chain of an empty result: it has no chains")
    derived = list(result.get("derived_params") or [])
    free = [k for k in (result.get("free_params") or chains) if k in chains and k not in derived]
    names = free + [k for k in chains if k not in free]
    cols = [np.asarray(chains[k], np.float64).reshape(-1) for k in names]
    n = cols[0].size
    if n == 0:
        raise ValueError(f"cannot write a getdist chain with no samples (chains of shape "
                         f"{np.shape(chains[names[0]])})")
    if any(c.size != n for c in cols):
        raise ValueError(f"chains of different lengths: {{{', '.join(f'{k}: {c.size}' for k, c in zip(names, cols))}}}")
    energy = (result.get("diagnostics") or {}).get("potential_energy")
    energy = np.zeros(n) if energy is None or np.size(energy) != n else np.asarray(energy, np.float64).reshape(-1)
    table = np.column_stack([np.ones(n), energy, *cols])
    # each file replaced atomically: an interrupted save leaves the previous chain whole
    atomic_write(Path(f"{root}.txt"), lambda fh: np.savetxt(fh, table, fmt="%.17g"))
    atomic_write(Path(f"{root}.paramnames"), "".join(f"{k}{'*' if k not in free else ''}\t{latex(k)}\n"
                                                     for k in names).encode("utf-8"))
    atomic_write(Path(f"{root}.ranges"), "".join(line + "\n" for line in _getdist_ranges(result)).encode("utf-8"))
    return root


def save_samples(result: Mapping[str, Any], path: str | Path, format: str | None = None) -> Path:
    """Write a :func:`~pbufjax.inference.sampling.run.sample_posterior` result to ``.npz`` (numpy),
    ``.nc`` (netCDF via arviz) or a getdist chain.

    The npz holds ``chains/<name>`` arrays (num_chains, num_samples) and a JSON
    ``metadata`` string (summary, configuration, priors, fixed values, ``created``); the
    netCDF is an arviz ``InferenceData`` with the chains as its ``posterior`` group and the
    metadata as attributes. ``format="getdist"`` takes ``path`` as a root and writes
    ``root.txt`` (one row per sample, chains one after another: weight 1, the sampler's
    potential energy :math:`-\\ln P` in its unconstrained coordinates up to a constant, then the
    free parameters and the derived quantities), ``root.paramnames`` (``name<TAB>LaTeX label``,
    derived names ending in ``*``) and ``root.ranges`` (the bounds of the uniform priors), so
    that ``getdist.loadMCSamples(root)`` reads them.

    Args:
        result: the sampler's result (or one read by :func:`load_samples`).
        path: the file (``.npz``/``.nc``), or the getdist root (``chains/run1``; its folder must exist).
        format: ``"npz"``, ``"netcdf"`` or ``"getdist"``; None: from the extension of ``path``.

    Returns:
        The file written (the root for getdist).

    Raises:
        ValueError: an unknown ``format``, an extension that does not match it (lists the
            valid ones), or (getdist) a result without samples.
        FileNotFoundError: (getdist) the folder of the root does not exist.
        ImportError: ``.nc`` without arviz installed.
    """
    if format is not None and format not in SAVE_FORMATS:
        raise ValueError(f"unknown sample format {format!r}; valid: {', '.join(SAVE_FORMATS)}")
    if format == "getdist":
        return _save_getdist(result, path)
    path = Path(path)
    if path.suffix not in SAMPLE_FORMATS:
        raise _bad_extension(path)
    if format is not None and path.suffix != {"npz": ".npz", "netcdf": ".nc"}[format]:
        raise ValueError(f"format {format!r} does not match the extension of {str(path)!r}; "
                         f"use {'.npz' if format == 'npz' else '.nc'}")
    meta = dumps({**{k: result.get(k) for k in META_KEYS}, "created": utc_now()}, indent=None)
    if path.suffix == ".npz":
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"chains/{k}": np.asarray(v) for k, v in result["chains"].items()}
        atomic_write(path, lambda fh: np.savez(fh, metadata=np.asarray(meta), **arrays))
        return path
    try:
        import arviz as az
    except ImportError as exc:
        raise ImportError("saving to netCDF (.nc) needs arviz: pip install arviz (or save to .npz)") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    idata = az.from_dict(posterior={k: np.asarray(v) for k, v in result["chains"].items()},
                         attrs={"pbufjax_metadata": meta})
    idata.to_netcdf(str(path))
    return path


def load_samples(path: str | Path) -> dict[str, Any]:
    """Read a file written by :func:`save_samples`.

    Returns:
        ``{"chains", "samples", "summary", "free_params", ...}`` (the saved metadata,
        non-finite numbers restored as floats).

    Raises:
        FileNotFoundError: no such file. ValueError: not a sample file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sample file {path} does not exist")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as f:
            if "metadata" not in f.files:
                raise ValueError(f"{path} is not a pbufjax sample file (no metadata)")
            meta = json.loads(str(f["metadata"]))
            chains = {k.split("/", 1)[1]: f[k] for k in f.files if k.startswith("chains/")}
    elif path.suffix == ".nc":
        try:
            import arviz as az
        except ImportError as exc:
            raise ImportError("reading netCDF (.nc) needs arviz: pip install arviz") from exc
        idata = az.from_netcdf(str(path))
        post = idata.posterior
        chains = {k: np.asarray(post[k]) for k in post.data_vars}
        meta = json.loads(idata.attrs.get("pbufjax_metadata", post.attrs.get("pbufjax_metadata", "{}")))
    else:
        raise _bad_extension(path)
    out = dict(from_jsonable(meta))
    out["chains"] = chains
    out["samples"] = {k: np.asarray(v).reshape(-1) for k, v in chains.items()}
    return out


__all__ = ["GETDIST_SUFFIXES", "META_KEYS", "SAMPLE_FORMATS", "SAVE_FORMATS", "SUMMARY_KEYS", "check_getdist_root",
           "check_sample_path", "load_samples", "save_samples", "summarize"]
