"""Gaussian priors transcribed from papers: DESI's compressed CMB and the BBN and H0 priors.

Each table is ``pbufjax.tables/<name>.json`` (the top-level ``data/`` folder) with its
citation, arXiv id and table or equation, the observables' definitions, the mean and the
covariance (or ``sigma`` and an optional ``correlation``). No release file is read.

* ``planck_pr4_compressed`` (``cmb``): :math:`(\\theta_*, \\omega_b, \\omega_{bc})`, DESI DR2
  (arXiv:2503.14738, Appendix A, Eqs. 35-36);
* ``thetastar`` (``cmb``): :math:`100\\theta_* = 1.04110 \\pm 0.00053` (arXiv:2503.14738);
* ``bbn`` (``prior``): :math:`\\omega_b = 0.02218 \\pm 0.00055` (Schöneberg 2024, arXiv:2401.15054);
* ``bbn_neff`` (``prior``): :math:`(\\omega_b, N_{\\rm eff})`, a joint Gaussian (arXiv:2401.15054);
* ``sh0es`` (``prior``): :math:`H_0 = 73.04 \\pm 1.04` km/s/Mpc (Riess et al. 2022, arXiv:2112.04510).
"""

from __future__ import annotations

import json
from importlib import resources

import numpy as np

from .loaders import PLANCK2018_Z_STAR, dataset_metadata
from .readers import DataFormatError


def check_prior_table(t, where: str) -> dict:
    """Check a prior table's keys and sizes: ``observables`` (n names), ``mean`` (n) and either
    ``covariance`` (n x n) or ``sigma`` (n) with an optional ``correlation`` (n x n).

    Returns:
        ``t``.

    Raises:
        DataFormatError: naming ``where`` and the key that is missing or has the wrong shape.
    """
    if not isinstance(t, dict) or not all(k in t for k in ("observables", "mean", "definitions")):
        raise DataFormatError(f"{where}: a prior table needs the keys observables, mean, definitions")
    n = len(t["observables"])
    if ("covariance" in t) == ("sigma" in t):
        raise DataFormatError(f"{where}: give either covariance or sigma (one of them, not both)")
    want = {"mean": (n,), "covariance": (n, n), "sigma": (n,), "correlation": (n, n)}
    bad = [f"{k} has shape {np.shape(t[k])}, expected {w} for {n} observables" for k, w in want.items()
           if k in t and np.shape(t[k]) != w]
    if bad:
        raise DataFormatError(f"{where}: {'; '.join(bad)}")
    return t


def prior_table(filename: str) -> dict:
    """A transcribed prior table (``pbufjax.tables/<filename>``), checked by :func:`check_prior_table`."""
    text = resources.files("pbufjax.tables").joinpath(filename).read_text(encoding="utf-8")
    return check_prior_table(json.loads(text), f"pbufjax.tables/{filename}")


def _load_prior_table(name: str, filename: str, redshift: float | None = None) -> dict:
    t = prior_table(filename)
    obs = tuple(t["observables"])
    mean = np.array(t["mean"], dtype=np.float64)
    if "covariance" in t:
        cov = np.array(t["covariance"], dtype=np.float64)
    else:
        sig = np.array(t["sigma"], dtype=np.float64)
        cov = np.array(t.get("correlation", np.eye(len(obs))), dtype=np.float64) * np.outer(sig, sig)
    z = (np.nan, np.nan) if redshift is None else (redshift, redshift)
    meta = dataset_metadata(name, len(obs), z, files={filename: f"pbufjax.tables/{filename}"},
                            sigma=np.sqrt(np.diag(cov)).tolist(), definitions=t["definitions"],
                            source=t.get("source"), notes=t.get("notes"))
    if redshift is None:
        meta["redshift_range"] = None  # a prior on parameters: no redshift
    for a in (mean, cov):
        a.setflags(write=False)
    return {"name": name, "observations": mean, "covariance": cov, "labels": list(obs), "observables": obs,
            "metadata": meta}


def load_planck_pr4_compressed(data_dir=None, *, verify: bool = True) -> dict:
    """DESI DR2's compressed Planck PR4 CMB likelihood (arXiv:2503.14738, Appendix A, Eqs. 35-36).

    A Gaussian on :math:`(\\theta_*, \\omega_b, \\omega_{bc})`: :math:`\\theta_* = r_s(z_*)/D_M(z_*)`
    in radians (not :math:`100\\theta_*`), mean (0.01041027, 0.02223208, 0.14207901) and the full
    covariance of DESI's likelihood, :math:`\\sigma = (2.57\\times10^{-6}, 1.46\\times10^{-4},
    1.22\\times10^{-3})`. :math:`\\omega_{bc} = (\\Omega_b+\\Omega_c)h^2` excludes the massive
    neutrinos, as DESI's likelihood does (CAMB's ``ombh2 + omch2``); counting them
    (:math:`\\omega_\\nu = 6.45\\times10^{-4}` for 0.06 eV) would shift the model by 0.53σ.
    Embedded (``pbufjax.tables/planck_pr4_compressed.json``); ``data_dir`` and ``verify`` are unused.
    """
    return _load_prior_table("planck_pr4_compressed", "planck_pr4_compressed.json", PLANCK2018_Z_STAR)


def load_thetastar(data_dir=None, *, verify: bool = True) -> dict:
    """The CMB acoustic angle alone, :math:`100\\theta_* = 1.04110 \\pm 0.00053`: the :math:`\\theta_*`
    prior of DESI's BAO + BBN + :math:`\\theta_*` analyses (arXiv:2503.14738; arXiv:2404.03002).

    Stored as :math:`\\theta_* = r_s(z_*)/D_M(z_*) = 0.0104110 \\pm 0.0000053` (radians). Embedded.
    """
    return _load_prior_table("thetastar", "thetastar.json", PLANCK2018_Z_STAR)


def load_bbn(data_dir=None, *, verify: bool = True) -> dict:
    """BBN prior :math:`\\omega_b = 0.02218 \\pm 0.00055` (Schöneberg 2024, arXiv:2401.15054; ΛCDM,
    PDG-recommended abundances): the BBN prior of DESI DR2. Embedded."""
    return _load_prior_table("bbn", "bbn.json")


def load_bbn_neff(data_dir=None, *, verify: bool = True) -> dict:
    """BBN prior for ΛCDM + :math:`N_{\\rm eff}` (Schöneberg 2024, arXiv:2401.15054): a joint Gaussian,
    :math:`\\omega_b = 0.02196 \\pm 0.00063`, :math:`N_{\\rm eff} = 2.904 \\pm 0.213`, correlation 0.54
    (the covariance of DESI's implementation; the paper quotes the marginals). Embedded."""
    return _load_prior_table("bbn_neff", "bbn_neff.json")


def load_sh0es(data_dir=None, *, verify: bool = True) -> dict:
    """SH0ES :math:`H_0 = 73.04 \\pm 1.04` km/s/Mpc (Riess et al. 2022, arXiv:2112.04510). Embedded."""
    return _load_prior_table("sh0es", "sh0es.json")


__all__ = ["check_prior_table", "load_bbn", "load_bbn_neff", "load_planck_pr4_compressed", "load_sh0es", "load_thetastar", "prior_table"]
