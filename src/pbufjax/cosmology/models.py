"""Expansion laws: the registry of background models.

A model is an expansion law :math:`E^2(z) = H^2(z)/H_0^2` plus the defaults and
bounds of its extra parameters, registered in :data:`MODELS`. Everything else
(distances, sound horizon, recombination, CMB priors) is generic and reads the
model only through :func:`e2`. Adding a model is one :func:`register_model` call.

Every model shares the density bookkeeping of :func:`densities`:

* :math:`\\Omega_m` = ``Om0``: baryons + cold dark matter + massive neutrinos today
  (the CAMB/Cobaya/DESI ``omegam``), so :math:`\\Omega_{cb} = \\Omega_m - \\Omega_\\nu` is what
  scales as :math:`a^{-3}`,
* :math:`\\Omega_\\nu(z)`: the massive neutrinos, from the exact Fermi–Dirac density
  (:mod:`.neutrinos`; ``mnu`` [eV], ``num_massive_neutrinos``),
* :math:`\\Omega_r = (\\omega_\\gamma + \\omega_{\\nu,\\rm massless})/h^2`, photons from the
  :math:`T^4` law and the massless share of ``Neff``,
* :math:`\\Omega_k` = ``Ok0`` (default 0),

and the dark-energy density closes the budget so that :math:`E(0) = 1` exactly. With
``mnu = 0`` every neutrino is massless and :math:`\\Omega_{cb} = \\Omega_m`.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping, NamedTuple

import jax.numpy as jnp

from .. import constants
from . import neutrinos

#: Parameters every model has, with their defaults.
BASE_DEFAULTS: dict[str, float] = {
    "H0": 67.4,
    "Om0": 0.315,
    "Obh2": 0.02237,
    "ns": 0.9649,
    "Neff": constants.NEFF_DEFAULT,
    "Tcmb": constants.TCMB_DEFAULT,
    "Ok0": 0.0,
    "mnu": 0.06,
    "num_massive_neutrinos": 1,
}

#: Parameters every model has that are settings, not optimizable: integers, changed only
#: by overrides (``num_massive_neutrinos``).
BASE_SETTINGS = ("num_massive_neutrinos",)

#: Optimization bounds of the base parameters.
BASE_BOUNDS: dict[str, tuple[float, float]] = {
    "H0": (20.0, 150.0),
    "Om0": (0.01, 0.99),
    "Obh2": (0.005, 0.1),
    "ns": (0.8, 1.2),
    "Neff": (0.0, 10.0),
    "Tcmb": (2.0, 3.5),
    "Ok0": (-0.3, 0.3),
    "mnu": (0.0, 5.0),
}

#: Valid ranges of the base parameters: the values where the kernels are physical and
#: their approximations were checked (``tests/data/make_validity_reference.py``: over this
#: box CAMBFIT stays within 4e-3 of CAMB in z*, 2.7e-2 in z_d and 2.5e-2 in r_d, the worst
#: at the edges omega_b = 0.005 or 0.1, and within 5e-5 inside its calibration box).
#: Every optimization bound lies inside.
BASE_VALID_RANGES: dict[str, tuple[float, float]] = {
    "H0": (10.0, 200.0),
    "Om0": (0.001, 1.0),
    "Obh2": (0.005, 0.1),
    "ns": (0.5, 1.5),
    "Neff": (0.0, 10.0),
    "Tcmb": (2.0, 3.5),
    "Ok0": (-0.5, 0.5),
    "mnu": (0.0, 5.0),
    "num_massive_neutrinos": (0, neutrinos.MAX_MASSIVE),
}


class Densities(NamedTuple):
    """Density parameters today derived from a parameter dict."""

    h: jnp.ndarray
    omega_m: jnp.ndarray  #: :math:`\\Omega_m` (baryons + CDM + massive neutrinos today)
    omega_r: jnp.ndarray  #: :math:`\\Omega_r` (photons + massless neutrinos)
    omega_k: jnp.ndarray  #: :math:`\\Omega_k`
    omega_gamma: jnp.ndarray  #: :math:`\\Omega_\\gamma`
    omega_cb: jnp.ndarray  #: :math:`\\Omega_{cb} = \\Omega_m - \\Omega_\\nu` (baryons + CDM)
    omega_nu: jnp.ndarray  #: :math:`\\Omega_\\nu` of the massive neutrinos today
    nu: neutrinos.Split  #: the massless/massive split of ``Neff`` and ``mnu``


def _get(p: Mapping, key: str):
    value = p[key] if key in p else BASE_DEFAULTS[key]
    return jnp.asarray(value, dtype=jnp.float64)


#: Key under which :func:`with_densities` stores a dict's :class:`Densities` in the dict itself.
DENSITIES_KEY = "_densities"


def densities(p: Mapping) -> Densities:
    """Density parameters today from a parameter dict (jit/grad-safe).

    Args:
        p: parameter dict with ``H0, Om0`` and optionally ``Neff, Tcmb, Ok0, mnu,
            num_massive_neutrinos``. A dict made by :func:`with_densities` carries them
            already (one evaluation shared by every kernel that reads the dict).

    Returns:
        :class:`Densities` with :math:`h, \\Omega_m, \\Omega_r, \\Omega_k, \\Omega_\\gamma,
        \\Omega_{cb}, \\Omega_\\nu` and the neutrino split.
    """
    cached = p.get(DENSITIES_KEY)
    if cached is not None:
        return cached
    return _densities(p)


def with_densities(p: Mapping) -> dict:
    """``p`` plus its :class:`Densities` under :data:`DENSITIES_KEY`, so that the many kernels
    reading the same dict in one evaluation (each E², the recombination fits, the checks)
    share one computation, the Fermi–Dirac density today included. The entry lives in the
    dict, in the trace that built it: nothing is cached across calls."""
    q = dict(p)
    q.pop(DENSITIES_KEY, None)
    q[DENSITIES_KEY] = _densities(q)
    return q


def _densities(p: Mapping) -> Densities:
    h = _get(p, "H0") / 100.0
    og = constants.omega_gamma_h2(_get(p, "Tcmb")) / h**2
    nu = neutrinos.split(p)
    orad = og * (1.0 + nu.n_massless * constants.NEUTRINO_FACTOR)
    om = _get(p, "Om0")
    onu = neutrinos.omega_nu_today(nu, og)
    ocb = om - onu if nu.massive else om
    return Densities(h, om, orad, _get(p, "Ok0"), og, ocb, onu, nu)


def matter_and_radiation(zp1, d: Densities, radiation_factor=None):
    """:math:`\\Omega_{cb}(1+z)^3 + \\Omega_r(1+z)^4 F + \\Omega_\\nu(z)`: the terms every model shares.

    ``radiation_factor`` :math:`F` (default 1) multiplies photons and massless neutrinos only.
    """
    rad = d.omega_r * zp1**4 if radiation_factor is None else d.omega_r * zp1**4 * radiation_factor
    out = d.omega_cb * zp1**3 + rad
    if d.nu.massive:
        out = out + neutrinos.massive_term(zp1, d.nu, d.omega_gamma)
    return out


# ---------------------------------------------------------------------------
# Expansion laws E^2(1+z, p). They take zp1 = 1 + z (so that very high redshift
# stays accurate) and must close the budget so that E^2(zp1=1) = 1.
# ---------------------------------------------------------------------------


def e2_lcdm(zp1, p):
    """ΛCDM: :math:`E^2 = \\Omega_m a^{-3} + \\Omega_r a^{-4} + \\Omega_k a^{-2} + \\Omega_\\Lambda`."""
    d = densities(p)
    ode = 1.0 - d.omega_m - d.omega_r - d.omega_k
    return matter_and_radiation(zp1, d) + d.omega_k * zp1**2 + ode


def _cpl_density(zp1, w0, wa):
    """CPL dark-energy density relative to today (Chevallier & Polarski 2001, gr-qc/0009008;
    Linder 2003, astro-ph/0208512): :math:`(1+z)^{3(1+w_0+w_a)} e^{-3 w_a z/(1+z)}`."""
    return jnp.exp(3.0 * (1.0 + w0 + wa) * jnp.log(zp1) - 3.0 * wa * (zp1 - 1.0) / zp1)


def e2_w0wacdm(zp1, p):
    """CPL dark energy :math:`w(a) = w_0 + w_a (1-a)`, closure :math:`\\Omega_{DE} = 1-\\Omega_m-\\Omega_r-\\Omega_k`."""
    d = densities(p)
    ode = 1.0 - d.omega_m - d.omega_r - d.omega_k
    w0 = jnp.asarray(p.get("w0", -1.0), jnp.float64)
    wa = jnp.asarray(p.get("wa", 0.0), jnp.float64)
    return matter_and_radiation(zp1, d) + d.omega_k * zp1**2 + ode * _cpl_density(zp1, w0, wa)


def e2_wcdm(zp1, p):
    """Constant equation of state :math:`w_0`: CPL with :math:`w_a = 0`."""
    q = dict(p)
    q["wa"] = 0.0
    return e2_w0wacdm(zp1, q)


def pbuf_radiation_factor(zp1, k_sat):
    """PBUF radiation correction :math:`F(z) = 1 + (k_{sat}-1)/(1 + (1+z)/1000)`."""
    return 1.0 + (k_sat - 1.0) / (1.0 + zp1 / 1000.0)


def pbuf_elastic_term(zp1, p):
    """PBUF elastic-saturation term

    .. math::

        \\sigma(z) = \\frac{\\alpha\\,\\epsilon_0 (1+z)^{n_\\epsilon}}{\\sqrt{R_{max}}}
                     \\frac{1}{1 + [z/(1 + 1000 k_{sat})]^4}.
    """
    alpha = jnp.asarray(p["alpha"], jnp.float64)
    rmax = jnp.asarray(p["Rmax"], jnp.float64)
    eps0 = jnp.asarray(p["eps0"], jnp.float64)
    n_eps = jnp.asarray(p["n_eps"], jnp.float64)
    k_sat = jnp.asarray(p["k_sat"], jnp.float64)
    z = zp1 - 1.0
    amp = alpha * eps0 / jnp.sqrt(rmax)
    return amp * jnp.exp(n_eps * jnp.log(zp1)) / (1.0 + (z / (1.0 + 1000.0 * k_sat)) ** 4)


def e2_pbuf(zp1, p):
    """PBUF expansion law (see ``documents/pbuf_model.md``).

    .. math::

        E^2 = \\Omega_m a^{-3} + \\Omega_r a^{-4} F(z) + \\Omega_k a^{-2} + \\Omega_\\Lambda + \\sigma(z),
        \\qquad \\Omega_\\Lambda = 1 - \\Omega_m - \\Omega_r F(0) - \\Omega_k - \\sigma(0).

    Reduces to ΛCDM exactly for ``k_sat = 1`` and ``alpha = 0``.
    """
    d = densities(p)
    k_sat = jnp.asarray(p["k_sat"], jnp.float64)
    one = jnp.ones_like(zp1)
    ol = 1.0 - d.omega_m - d.omega_r * pbuf_radiation_factor(1.0, k_sat) - d.omega_k - pbuf_elastic_term(1.0, p)
    return (
        matter_and_radiation(zp1, d, pbuf_radiation_factor(zp1, k_sat))
        + d.omega_k * zp1**2
        + ol * one
        + pbuf_elastic_term(zp1, p)
    )


@dataclasses.dataclass(frozen=True)
class Model:
    """One registered background model.

    Attributes:
        name: registry key (``model_class`` in a parameter dict).
        e2: expansion law ``e2(zp1, params) -> E^2`` (pure jnp, jit/vmap/grad-safe).
        defaults: defaults of the model's extra parameters (beyond :data:`BASE_DEFAULTS`).
        bounds: optimization bounds of the extra parameters.
        valid_ranges: valid ranges of the extra parameters (values outside are refused);
            an extra parameter without one is valid wherever it is finite. Each bound
            must lie inside its valid range.
        log_params: extra parameters optimized in log space.
        description: one line.
        reference: paper reference (arXiv id).
    """

    name: str
    e2: Callable
    defaults: Mapping[str, float] = dataclasses.field(default_factory=dict)
    bounds: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=dict)
    log_params: tuple[str, ...] = ()
    description: str = ""
    reference: str = ""
    valid_ranges: Mapping[str, tuple[float, float]] = dataclasses.field(default_factory=dict)

    @property
    def all_defaults(self) -> dict[str, float]:
        out = dict(BASE_DEFAULTS)
        out.update(self.defaults)
        return out

    @property
    def all_bounds(self) -> dict[str, tuple[float, float]]:
        out = dict(BASE_BOUNDS)
        out.update(self.bounds)
        return out

    @property
    def all_valid_ranges(self) -> dict[str, tuple[float, float]]:
        out = dict(BASE_VALID_RANGES)
        out.update(self.valid_ranges)
        return out


#: name -> :class:`Model`. Extend with :func:`register_model`.
MODELS: dict[str, Model] = {}


def register_model(model: Model, *, overwrite: bool = False) -> Model:
    """Add a model to :data:`MODELS`.

    Raises:
        ValueError: if the name is taken and ``overwrite`` is False, or an optimization
            bound (or default) lies outside the parameter's valid range.
    """
    if model.name in MODELS and not overwrite:
        raise ValueError(f"model {model.name!r} is already registered; pass overwrite=True to replace it")
    valid = model.all_valid_ranges
    for name, (lo, hi) in model.all_bounds.items():
        if name in valid and not valid[name][0] <= lo < hi <= valid[name][1]:
            raise ValueError(f"model {model.name!r}: optimization bounds {name} = ({lo:g}, {hi:g}) must lie inside "
                             f"its valid range [{valid[name][0]:g}, {valid[name][1]:g}]")
    for name, value in model.all_defaults.items():
        if name in valid and not valid[name][0] <= value <= valid[name][1]:
            raise ValueError(f"model {model.name!r}: default {name} = {value:g} lies outside its valid range "
                             f"[{valid[name][0]:g}, {valid[name][1]:g}]")
    MODELS[model.name] = model
    return model


register_model(Model("lcdm", e2_lcdm, description="flat or curved ΛCDM", reference="astro-ph/9905116"))
register_model(
    Model(
        "wcdm",
        e2_wcdm,
        defaults={"w0": -1.0},
        bounds={"w0": (-3.0, 0.0)},
        valid_ranges={"w0": (-5.0, 1.0 / 3.0)},
        description="constant dark-energy equation of state w0",
    )
)
register_model(
    Model(
        "w0wacdm",
        e2_w0wacdm,
        defaults={"w0": -1.0, "wa": 0.0},
        bounds={"w0": (-3.0, 0.0), "wa": (-3.0, 2.0)},
        valid_ranges={"w0": (-5.0, 1.0 / 3.0), "wa": (-5.0, 5.0)},
        description="CPL dark energy w(a) = w0 + wa (1 - a)",
        reference="gr-qc/0009008, astro-ph/0208512",
    )
)
register_model(
    Model(
        "pbuf",
        e2_pbuf,
        defaults={"alpha": 5e-4, "Rmax": 1e9, "eps0": 0.7, "n_eps": 0.0, "k_sat": 0.9762},
        bounds={
            "alpha": (1e-6, 1e-2),
            "Rmax": (1e6, 1e12),
            "eps0": (0.0, 2.0),
            "n_eps": (-2.0, 2.0),
            "k_sat": (0.1, 2.0),
        },
        valid_ranges={
            "alpha": (0.0, 0.1),
            "Rmax": (1e3, 1e15),
            "eps0": (0.0, 10.0),
            "n_eps": (-5.0, 5.0),
            "k_sat": (0.05, 5.0),
        },
        log_params=("Rmax",),
        description="PBUF: ΛCDM plus elastic-saturation term and saturating radiation correction",
        reference="documents/pbuf_model.md",
    )
)


def get_model(name: str) -> Model:
    """Look a model up by name.

    Raises:
        ValueError: naming the unknown model and listing the registered ones.
    """
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; valid models: {', '.join(sorted(MODELS))}") from None


def e2(z, p: Mapping):
    """:math:`E^2(z) = H^2(z)/H_0^2` of the model named by ``p['model_class']`` (default ``lcdm``)."""
    model = get_model(p.get("model_class", "lcdm"))
    return model.e2(1.0 + jnp.asarray(z, jnp.float64), p)


def e2_zp1(zp1, p: Mapping):
    """Same as :func:`e2` but taking :math:`1+z` (accurate at very high redshift)."""
    model = get_model(p.get("model_class", "lcdm"))
    return model.e2(zp1, p)
