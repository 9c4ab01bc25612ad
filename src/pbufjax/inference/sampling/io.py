"""Summaries of chains and the sample files (``.npz``, netCDF through arviz).

Summary statistics: mean, standard deviation, median, 16/84% and 2.5/97.5% quantiles,
split-:math:`\\hat R` (Gelman et al. 2013, BDA3 §11.4) and effective sample size
(Geyer 1992 initial monotone sequence, as in Stan) from numpyro's diagnostics.

The metadata of a sample file is strict JSON in the package's one convention
(:mod:`pbufjax.runtime.jsonio`: non-finite numbers as ``"inf"``/``"-inf"``/``"nan"``,
read back as floats), with the UTC time the file was written (``"created"``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ...runtime import dumps, from_jsonable, utc_now

#: Statistics in each summary entry.
SUMMARY_KEYS = ("mean", "std", "median", "q16", "q84", "q025", "q975", "r_hat", "ess")
#: Result entries written as the metadata of a sample file.
META_KEYS = ("summary", "free_params", "derived_params", "model", "datasets", "fixed_params", "priors", "config",
             "timing", "ess_per_second")
#: Sample file extensions.
SAMPLE_FORMATS = (".npz", ".nc")


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


def save_samples(result: Mapping[str, Any], path: str | Path) -> Path:
    """Write a :func:`~pbufjax.inference.sampling.run.sample_posterior` result to ``.npz`` (numpy)
    or ``.nc`` (netCDF via arviz).

    The npz holds ``chains/<name>`` arrays (num_chains, num_samples) and a JSON
    ``metadata`` string (summary, configuration, priors, fixed values, ``created``); the
    netCDF is an arviz ``InferenceData`` with the chains as its ``posterior`` group and the
    metadata as attributes.

    Raises:
        ValueError: another file extension (lists the valid ones).
        ImportError: ``.nc`` without arviz installed.
    """
    path = Path(path)
    if path.suffix not in SAMPLE_FORMATS:
        raise _bad_extension(path)
    meta = dumps({**{k: result.get(k) for k in META_KEYS}, "created": utc_now()}, indent=None)
    if path.suffix == ".npz":
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {f"chains/{k}": np.asarray(v) for k, v in result["chains"].items()}
        np.savez(path, metadata=np.asarray(meta), **arrays)
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


__all__ = ["META_KEYS", "SAMPLE_FORMATS", "SUMMARY_KEYS", "check_sample_path", "load_samples", "save_samples",
           "summarize"]
