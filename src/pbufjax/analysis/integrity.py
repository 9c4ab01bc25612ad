"""Integrity checks: the compiled physics against independent evaluations, and the data.

* :func:`verify_h_ratios` — :math:`H(z)` from the compiled kernels divided by an
  independent closed-form evaluation written here in plain numpy with CODATA
  constants from :mod:`scipy.constants` (no code shared with
  :mod:`pbufjax.cosmology`); for PBUF also the limit ``k_sat = 1``, ``alpha = 0``
  that must reproduce ΛCDM exactly.
* :func:`verify_recombination` — :math:`z_*` against a reference value, scaled to
  the parameters' :math:`\\omega_b, \\omega_m` with the Planck 2018 power law
  :math:`z_* = z_{ref}(\\omega_b/0.02237)^{-0.004}(\\omega_m/0.1424)^{0.010}`
  (a sanity check near the Planck cosmology, not an accuracy test: for
  :math:`N_{\\rm eff}` or PBUF ``k_sat`` far from standard the true :math:`z_*`
  moves by more than this scaling captures).
* :func:`verify_covariance_matrices` — symmetric, finite, positive definite with
  the smallest eigenvalue above a threshold.
* :func:`dataset_overlaps` — warnings when datasets that share objects or volume
  are combined (their likelihoods are not independent).
* :func:`run_integrity_suite` — all of the above, with tolerances configurable
  as in the API reference's ``integrity_config``.
"""

from __future__ import annotations

import copy
import functools
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .. import data as _data
from ..runtime import register_cache

logger = logging.getLogger("pbufjax.integrity")  # the public module's name: what users filter on

#: Default configuration (the API reference's ``integrity_config``).
DEFAULT_INTEGRITY_CONFIG: dict[str, dict[str, Any]] = {
    "h_ratios": {"tolerance": 1e-4, "redshifts": [0.1, 0.5, 1.0, 2.0]},
    "recombination": {"reference": 1089.80, "tolerance": 1.0},
    "covariance": {"min_eigenvalue": 1e-10},
}

#: The built-in pairs of datasets whose likelihoods are not independent, ``(a, b, reason)``, as
#: declared in their :class:`~pbufjax.data.DatasetSpec` (a snapshot; the live list, with
#: user-registered datasets, is :func:`pbufjax.data.overlap_pairs`).
OVERLAPPING_DATASETS: tuple[tuple[str, str, str], ...] = tuple(_data.overlap_pairs())

# ---------------------------------------------------------------------------
# Independent closed-form H(z) (numpy, scipy.constants; shares no code with the kernels)
# ---------------------------------------------------------------------------


def _omega_gamma_h2(tcmb: float) -> float:
    """Photon density :math:`\\omega_\\gamma` from the black-body energy density
    :math:`\\rho_\\gamma c^2 = (\\pi^2/15)(k_BT)^4/(\\hbar c)^3` over
    :math:`\\rho_{crit}/h^2 = 3(100\\,{\\rm km/s/Mpc})^2/(8\\pi G)`."""
    from scipy import constants as sc

    u = (math.pi**2 / 15.0) * (sc.k * tcmb) ** 4 / (sc.hbar * sc.c) ** 3  # J/m^3
    rho = u / sc.c**2  # kg/m^3
    mpc = sc.parsec * 1e6
    rho_crit_h2 = 3.0 * (1e5 / mpc) ** 2 / (8.0 * math.pi * sc.G)
    return rho / rho_crit_h2


@functools.lru_cache(maxsize=4096)
def _fermi_dirac_ratio(y: float) -> float:
    """:math:`R(y)` by adaptive quadrature (scipy), remembered: a run of fits at one Σmν asks
    for the same handful of :math:`y` every time (the check's redshifts), and each costs ~0.2 ms."""
    from scipy.integrate import quad

    fn = lambda x: x * x * math.sqrt(x * x + y * y) / (math.exp(x) + 1.0)  # noqa: E731
    edges = (0.0, 2.0, 8.0, 30.0, 100.0, 700.0)
    return sum(quad(fn, a, b, epsabs=0.0, epsrel=1e-12, limit=200)[0] for a, b in zip(edges[:-1], edges[1:])) \
        / (7.0 * math.pi**4 / 120.0)


register_cache("analysis.integrity.fermi_dirac_ratio", _fermi_dirac_ratio.cache_clear)


def _massive_neutrinos(zp1: np.ndarray, params: Mapping[str, Any], og: float) -> tuple[np.ndarray, float, float]:
    """Massive neutrinos by direct quadrature (scipy; independent of the kernels' fitted series):
    ``(Omega_nu(z), Omega_nu today, N_eff of the massless species)`` with CAMB's split (the
    massive states carry ``n * 3.044/3`` of ``Neff``; mass Σmν/n; temperature
    :math:`T_\\nu (g/n)^{1/4}`)."""
    from scipy import constants as sc

    neff = float(params.get("Neff", 3.046))
    mnu = float(params.get("mnu", 0.0))
    n = int(round(float(params.get("num_massive_neutrinos", 1))))
    if mnu <= 0.0 or n == 0:
        return np.zeros_like(zp1), 0.0, neff
    g = min(n * 3.044 / 3.0, neff)
    t_eff = (4.0 / 11.0) ** (1.0 / 3.0) * float(params.get("Tcmb", 2.7255)) * (g / n) ** 0.25
    y0 = (mnu / n) / (sc.k / sc.e * t_eff)
    f_nu = 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0)

    ratio = _fermi_dirac_ratio
    amp = g * f_nu * og
    rho = np.array([amp * x**4 * ratio(y0 / x) for x in np.ravel(zp1)]).reshape(np.shape(zp1))
    return rho, amp * ratio(y0), neff - g


def reference_e2(z, params: Mapping[str, Any]) -> np.ndarray | None:
    """:math:`E^2(z)` in closed form for the built-in models (None for a model
    with its own expansion law and no independent reference here).

    ΛCDM (and DEFAULTS-only models), wCDM, w0waCDM (CPL; Linder 2003,
    astro-ph/0208512) and PBUF (``documents/pbuf_model.md``), with
    :math:`\\Omega_r = \\omega_\\gamma[1 + N_{\\rm eff}\\tfrac78(4/11)^{4/3}]/h^2` for the massless
    species and the massive neutrinos by direct quadrature of the Fermi–Dirac integral.
    """
    from ..cosmology import models as _models

    name = params.get("model_class", "lcdm")
    z = np.asarray(z, np.float64)
    zp1 = 1.0 + z
    h = float(params["H0"]) / 100.0
    om = float(params["Om0"])
    ok = float(params.get("Ok0", 0.0))
    og = _omega_gamma_h2(float(params.get("Tcmb", 2.7255))) / h**2
    rho_nu, onu0, neff = _massive_neutrinos(zp1, params, og)  # Om0 includes the massive neutrinos today
    orad = og * (1.0 + neff * 7.0 / 8.0 * (4.0 / 11.0) ** (4.0 / 3.0))
    ocb = om - onu0
    m = _models.MODELS.get(name)
    if name == "lcdm" or (m is not None and m.e2 is _models.e2_lcdm):  # incl. DEFAULTS-only models
        ol = 1.0 - om - orad - ok
        return ocb * zp1**3 + orad * zp1**4 + rho_nu + ok * zp1**2 + ol
    if name in ("wcdm", "w0wacdm"):
        w0 = float(params.get("w0", -1.0))
        wa = float(params.get("wa", 0.0)) if name == "w0wacdm" else 0.0
        ode = 1.0 - om - orad - ok
        a = 1.0 / zp1
        rho_de = a ** (-3.0 * (1.0 + w0 + wa)) * np.exp(-3.0 * wa * (1.0 - a))
        return ocb * zp1**3 + orad * zp1**4 + rho_nu + ok * zp1**2 + ode * rho_de
    if name == "pbuf":
        k = float(params["k_sat"])
        alpha, rmax = float(params["alpha"]), float(params["Rmax"])
        eps0, n_eps = float(params["eps0"]), float(params["n_eps"])

        def radiation_factor(x):
            return 1.0 + (k - 1.0) / (1.0 + x / 1000.0)

        def sigma(x):
            zz = x - 1.0
            return alpha * eps0 * x**n_eps / math.sqrt(rmax) / (1.0 + (zz / (1.0 + 1000.0 * k)) ** 4)

        ol = 1.0 - om - orad * radiation_factor(1.0) - ok - sigma(1.0)
        return ocb * zp1**3 + orad * zp1**4 * radiation_factor(zp1) + rho_nu + ok * zp1**2 + ol + sigma(zp1)
    return None


_HUBBLE_CACHE: dict = {}
register_cache("analysis.integrity.compiled_hubble", _HUBBLE_CACHE.clear)


def compiled_hubble(z, params: Mapping[str, Any]) -> np.ndarray:
    """:math:`H(z)` [km/s/Mpc] from :func:`pbufjax.cosmology.hubble` through a cached jit."""
    import jax

    from ..cosmology import hubble
    from ..cosmology import models as _models

    name = params.get("model_class", "lcdm")
    keys = tuple(sorted(k for k, v in params.items()
                        if isinstance(v, (int, float, np.floating)) and not isinstance(v, bool)))
    key = (name, keys, _models.get_model(name).e2)
    fn = _HUBBLE_CACHE.get(key)
    if fn is None:

        def fn_(zz, vec):
            return hubble(zz, {**dict(zip(keys, vec)), "model_class": name})

        fn = _HUBBLE_CACHE[key] = jax.jit(fn_)
    vec = np.array([float(params[k]) for k in keys], np.float64)
    return np.asarray(fn(np.asarray(z, np.float64), vec))


def h_ratios(params: Mapping[str, Any], redshifts: Sequence[float] | None = None,
             compiled: Sequence[float] | None = None) -> list[float] | None:
    """:math:`H_{compiled}(z)/H_{reference}(z)` at ``redshifts`` (None when the model
    has no independent reference).

    Args:
        params: ParameterDict.
        redshifts: default [0.1, 0.5, 1.0, 2.0].
        compiled: :math:`H(z)` already computed by the compiled kernels at these
            redshifts (e.g. in the same call as other quantities); computed here if None.
    """
    z = np.asarray(DEFAULT_INTEGRITY_CONFIG["h_ratios"]["redshifts"] if redshifts is None else redshifts, np.float64)
    ref = reference_e2(z, params)
    if ref is None:
        return None
    h_ref = float(params["H0"]) * np.sqrt(ref)
    h = compiled_hubble(z, params) if compiled is None else np.asarray(compiled, np.float64)
    return [float(r) for r in h / h_ref]


def check_h_ratios(params: Mapping[str, Any], redshifts: Sequence[float] | None = None,
                   tolerance: float | None = None) -> dict[str, Any]:
    """Details of :func:`verify_h_ratios`: ratios, PBUF→ΛCDM limit, pass/fail."""
    tol = DEFAULT_INTEGRITY_CONFIG["h_ratios"]["tolerance"] if tolerance is None else float(tolerance)
    z = list(DEFAULT_INTEGRITY_CONFIG["h_ratios"]["redshifts"] if redshifts is None else redshifts)
    _check_redshifts(z)
    ratios = h_ratios(params, z)
    out: dict[str, Any] = {"redshifts": [float(v) for v in z], "tolerance": tol, "ratios": ratios}
    if ratios is None:
        logger.warning("model %r has no independent H(z) reference; checked only E(0) = 1 and E^2 > 0",
                       params.get("model_class"))
        h = compiled_hubble(np.array([0.0] + z), params)
        ok = bool(np.all(np.isfinite(h)) and np.all(h > 0) and abs(h[0] / float(params["H0"]) - 1.0) <= tol)
        out["max_deviation"] = float(abs(h[0] / float(params["H0"]) - 1.0))
        out["reference"] = "none (closure E(0) = 1 only)"
    else:
        dev = np.max(np.abs(np.asarray(ratios) - 1.0))
        ok = bool(np.isfinite(dev) and dev <= tol)
        out["max_deviation"] = float(dev)
        out["reference"] = "closed form (numpy, scipy.constants)"
    if params.get("model_class") == "pbuf":
        lim = check_pbuf_lcdm_limit(params, z, tol)
        out["pbuf_lcdm_limit"] = lim
        ok = ok and lim["passed"]
    out["passed"] = ok
    return out


def check_pbuf_lcdm_limit(params: Mapping[str, Any], redshifts: Sequence[float] | None = None,
                          tolerance: float = 1e-4) -> dict[str, Any]:
    """Compiled PBUF with ``k_sat = 1``, ``alpha = 0`` against compiled ΛCDM at the same
    base parameters (must agree to rounding)."""
    z = np.asarray(DEFAULT_INTEGRITY_CONFIG["h_ratios"]["redshifts"] if redshifts is None else redshifts, np.float64)
    base = {k: params[k] for k in ("H0", "Om0", "Obh2", "ns", "Neff", "Tcmb", "Ok0") if k in params}
    pb = {**base, "alpha": 0.0, "Rmax": float(params.get("Rmax", 1e9)), "eps0": float(params.get("eps0", 0.7)),
          "n_eps": float(params.get("n_eps", 0.0)), "k_sat": 1.0, "model_class": "pbuf"}
    lc = {**base, "model_class": "lcdm"}
    r = compiled_hubble(z, pb) / compiled_hubble(z, lc)
    dev = float(np.max(np.abs(r - 1.0)))
    return {"max_deviation": dev, "tolerance": float(tolerance), "passed": bool(dev <= tolerance)}


def _check_redshifts(z):
    arr = np.asarray(z, dtype=float)
    if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"redshifts must be a non-empty list of finite values >= 0, got {z!r}")


def verify_h_ratios(params: Mapping[str, Any], redshifts: Sequence[float] | None = None,
                    tolerance: float | None = None) -> bool:
    """Check the compiled :math:`H(z)` against an independent closed-form evaluation.

    :math:`H(z) = H_0\\sqrt{E^2(z)}` with :math:`E^2` written out per model in numpy
    (see :func:`reference_e2`). For PBUF also checks that ``k_sat = 1``,
    ``alpha = 0`` reproduces ΛCDM.

    Args:
        params: ParameterDict.
        redshifts: test redshifts (default [0.1, 0.5, 1.0, 2.0]).
        tolerance: largest allowed :math:`|H_{comp}/H_{ref} - 1|` (default 1e-4).

    Returns:
        True if every ratio is within ``tolerance`` of 1.

    Raises:
        ValueError: bad redshifts; unknown model.
    """
    return check_h_ratios(params, redshifts, tolerance)["passed"]


def check_recombination(params: Mapping[str, Any], reference: float = 1089.80,
                        tolerance: float = 1.0) -> dict[str, Any]:
    """Details of :func:`verify_recombination`."""
    from ..cosmology.parameters import derived_params

    z_star = params.get("z_recomb")
    if z_star is None:
        z_star = derived_params(params)["z_recomb"]
    h = float(params["H0"]) / 100.0
    wb = float(params["Obh2"])
    wm = float(params["Om0"]) * h * h
    expected = float(reference) * (wb / 0.02237) ** -0.004 * (wm / 0.1424) ** 0.010
    diff = float(z_star) - expected
    return {
        "z_star": float(z_star),
        "expected": expected,
        "difference": diff,
        "tolerance": float(tolerance),
        "method": params.get("recomb_method"),
        "passed": bool(math.isfinite(diff) and abs(diff) <= tolerance),
    }


def verify_recombination(params: Mapping[str, Any], reference: float = 1089.80, tolerance: float = 1.0) -> bool:
    """Check :math:`z_*` of the parameters' recombination method against a reference.

    The reference (default Planck 2018's 1089.80, arXiv:1807.06209) is scaled to
    the parameters' :math:`\\omega_b, \\omega_m` with the Planck 2018 power law
    (module docstring); the check passes when :math:`|z_* - z_{expected}| \\le`
    ``tolerance``.

    Returns:
        True if consistent.
    """
    return check_recombination(params, reference, tolerance)["passed"]


def check_covariance_matrices(datasets: Iterable[str] | str, min_eigenvalue: float = 1e-10, *,
                              data_dir: str | os.PathLike | None = None) -> dict[str, dict]:
    """Per dataset: size, symmetry, finiteness, smallest eigenvalue, condition number.

    Keyed by the names the caller passed (an alias stays an alias, a combination gives its
    members); each entry records the canonical name under ``"dataset"``.

    Args:
        datasets: dataset names or aliases (a comma-separated string too).
        min_eigenvalue: smallest eigenvalue a covariance may have.
        data_dir: folder of the release files (default: the data registry's search path).

    Raises:
        KeyError: unknown dataset.
    """
    if isinstance(datasets, str):
        datasets = [s.strip() for s in datasets.split(",") if s.strip()]
    datasets = [m for d in datasets for m in (_data.expand_datasets([d]) if _data.is_combination(d) else [d])]
    out = {}
    for name in datasets:
        data = _data.load_dataset(name, data_dir=data_dir)
        cov = np.asarray(data["covariance"], np.float64)
        info: dict[str, Any] = {"n": int(cov.shape[0]) if cov.ndim == 2 else None}
        square = cov.ndim == 2 and cov.shape[0] == cov.shape[1]
        finite = bool(np.all(np.isfinite(cov)))
        sym = bool(square and np.allclose(cov, cov.T, rtol=1e-10, atol=0.0))
        info.update(square=square, finite=finite, symmetric=sym)
        if square and finite:
            ev = np.linalg.eigvalsh(0.5 * (cov + cov.T))
            info["min_eigenvalue"] = float(ev[0])
            info["max_eigenvalue"] = float(ev[-1])
            info["condition_number"] = float(ev[-1] / ev[0]) if ev[0] > 0 else float("inf")
            info["positive_definite"] = bool(ev[0] > 0)
        else:
            info["positive_definite"] = False
        info["passed"] = bool(square and finite and sym and info.get("min_eigenvalue", -1.0) > min_eigenvalue)
        info["dataset"] = _data.resolve_name(name)
        out[name] = info
    return out


def verify_covariance_matrices(datasets: Iterable[str] | str, min_eigenvalue: float = 1e-10, *,
                               data_dir: str | os.PathLike | None = None) -> bool:
    """Check that every dataset's covariance is square, finite, symmetric and positive
    definite with smallest eigenvalue above ``min_eigenvalue``.

    Raises:
        KeyError: unknown dataset.
    """
    return all(v["passed"] for v in check_covariance_matrices(datasets, min_eigenvalue, data_dir=data_dir).values())


def dataset_overlaps(datasets: Iterable[str]) -> list[str]:
    """Warnings for combinations of datasets that are not independent (the registry's overlaps).

    Example:
        >>> dataset_overlaps(["desi_dr2", "boss_dr12"])  # doctest: +ELLIPSIS
        ['desi_dr2 + boss_dr12: DESI and BOSS DR12 overlap...']
    """
    return _data.dataset_overlaps(datasets)


def _merge_config(config: Mapping | None) -> dict:
    cfg = copy.deepcopy(DEFAULT_INTEGRITY_CONFIG)
    if config is None:
        return cfg
    if not isinstance(config, Mapping):
        raise TypeError(f"integrity config must be a dict, got {type(config).__name__}")
    for section, values in config.items():
        if section not in cfg:
            raise ValueError(f"unknown integrity config section {section!r}; valid sections: {', '.join(cfg)}")
        if not isinstance(values, Mapping):
            raise TypeError(f"integrity config section {section!r} must be a dict")
        for k, v in values.items():
            if k not in cfg[section]:
                raise ValueError(f"unknown key {k!r} in integrity config section {section!r}; "
                                 f"valid keys: {', '.join(cfg[section])}")
            cfg[section][k] = v
    return cfg


def run_integrity_suite(params: Mapping[str, Any], datasets: Iterable[str] | str,
                        config: Mapping[str, Any] | None = None, *,
                        data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
    """Run every integrity check.

    Args:
        params: ParameterDict (e.g. ``build_params("pbuf")`` or a fit's ``result["params"]``).
        datasets: dataset names.
        config: overrides of :data:`DEFAULT_INTEGRITY_CONFIG` (same structure).
        data_dir: folder of the release files (default: the data registry's search path).

    Returns:
        ``{"h_ratios": {...}, "recombination": {...}, "covariance": {name: {...}},
        "overlaps": [warnings], "warnings": [...], "passed": bool, "config": {...}}``.

    Raises:
        ValueError/TypeError: bad config. KeyError: unknown dataset.
    """
    cfg = _merge_config(config)
    if isinstance(datasets, str):
        datasets = [s.strip() for s in datasets.split(",") if s.strip()]
    datasets = list(datasets)
    h = check_h_ratios(params, cfg["h_ratios"]["redshifts"], cfg["h_ratios"]["tolerance"])
    rec = check_recombination(params, cfg["recombination"]["reference"], cfg["recombination"]["tolerance"])
    cov = check_covariance_matrices(datasets, cfg["covariance"]["min_eigenvalue"], data_dir=data_dir)
    overlaps = dataset_overlaps(datasets)
    warnings = list(overlaps)
    if not h["passed"]:
        warnings.append(f"H(z) differs from the closed form by {h['max_deviation']:.3g} (> {h['tolerance']:.3g})")
    if not rec["passed"]:
        warnings.append(f"z* = {rec['z_star']:.2f} differs from the reference {rec['expected']:.2f} by more than "
                        f"{rec['tolerance']}")
    for name, info in cov.items():
        if not info["passed"]:
            warnings.append(f"covariance of {name} fails the checks: {info}")
    for w in warnings:
        logger.warning("integrity: %s", w)
    return {
        "h_ratios": h,
        "recombination": rec,
        "covariance": cov,
        "overlaps": overlaps,
        "warnings": warnings,
        "passed": bool(h["passed"] and rec["passed"] and all(v["passed"] for v in cov.values())),
        "config": cfg,
    }


__all__ = [
    "DEFAULT_INTEGRITY_CONFIG",
    "OVERLAPPING_DATASETS",
    "check_covariance_matrices",
    "check_h_ratios",
    "check_pbuf_lcdm_limit",
    "check_recombination",
    "compiled_hubble",
    "dataset_overlaps",
    "h_ratios",
    "reference_e2",
    "run_integrity_suite",
    "verify_covariance_matrices",
    "verify_h_ratios",
    "verify_recombination",
]
