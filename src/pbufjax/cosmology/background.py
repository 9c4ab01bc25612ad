"""Background observables: H(z) and cosmological distances.

All distances are computed from one integral over the variable
:math:`u = a^{1/2} = (1+z)^{-1/2}`, in which the line-of-sight integrand is a
smooth, bounded function from :math:`z=0` (:math:`u=1`) to :math:`z=\\infty`
(:math:`u=0`):

.. math::

    \\chi(z) = \\int_0^z \\frac{c\\,dz'}{H(z')}
             = \\frac{c}{H_0}\\int_{u(z)}^{1} \\frac{2u\\,du}{\\sqrt{u^8 E^2(u^{-2}-1)}},

since :math:`u^8E^2 \\to \\Omega_r + \\Omega_m u^2 + \\dots` stays finite. One
quadrature serves every distance and sound horizon (:func:`rule_weights`): 16
Gauss-Legendre nodes on each of 9 panels graded towards :math:`u = 0`, where the
integrand's nearest complex singularities lie (128 fixed nodes). An integral
:math:`\\int_u^1 f` takes the Gauss-Legendre weights of the panels above :math:`u` and,
on the panel containing :math:`u`, the weights of the integral of the degree-15
polynomial interpolating :math:`f` at that panel's nodes. The integrand is therefore
evaluated once, at the same 128 nodes, whatever the redshifts, and every integral is
a row of a weight matrix applied to it, built once (numpy, cached) for concrete
redshifts; traced redshifts (``z`` a ``jit``/``vmap`` argument) are summed panel-wise by
:func:`integrate_from`, the same rule. The integrals up to the parameter-dependent
:math:`z_*` and :math:`z_d` (:func:`recombination_integrals`) use a Gauss-Legendre rule
scaled to :math:`[0, u]`, whose nodes move with the end point: the same integrand,
and a much smaller compiled graph for second derivatives. Relative error < 3e-14 for
ΛCDM-like histories, < 1e-10 at the corners of the parameter bounds; see
``tests/cosmology/test_background.py``.

Units: Mpc and km/s/Mpc; :math:`c` = 299 792.458 km/s.
"""

from __future__ import annotations

import functools
from typing import Mapping

import jax
import jax.numpy as jnp
import numpy as np
from numpy.polynomial import legendre

from .. import constants
from ..runtime.caches import register_cache
from .models import densities, e2_zp1
from .neutrinos import is_constant

#: Panel edges in u of the quadrature, graded towards u = 0, where the integrand's
#: nearest complex singularities lie (:math:`u^2 = -\\Omega_r/\\Omega_m`).
STATIC_EDGES = np.array([0.0, 0.0125, 0.035, 0.1, 0.25, 0.45, 0.65, 0.825, 1.0])
#: Gauss-Legendre nodes per panel.
STATIC_ORDER = 16
#: Concrete redshift arrays up to this size get a cached weight matrix (``(n + 1) x 128``
#: entries); larger ones are weighted in JAX at each call, like traced redshifts.
STATIC_MAX = 4096
#: Gauss-Legendre nodes of the rule on [0, u] used for the parameter-dependent end points
#: z* and z_d (:func:`recombination_integrals`).
ENDPOINT_ORDER = 24

_T, _W = legendre.leggauss(STATIC_ORDER)
_LO, _HI = STATIC_EDGES[:-1], STATIC_EDGES[1:]
_HALF = 0.5 * (_HI - _LO)
#: The 128 nodes and their Gauss-Legendre weights on [0, 1].
NODES = (_LO[:, None] + _HALF[:, None] * (1.0 + _T)).ravel()
FULL_WEIGHTS = (_HALF[:, None] * _W).ravel()
# Legendre coefficients of the Lagrange basis through one panel's nodes (discrete
# orthogonality): c[l, j] = w_j P_l(t_j) (2l+1)/2, (order, order)
_COEF_LOCAL = (np.stack([legendre.legval(_T, np.eye(STATIC_ORDER)[k]) for k in range(STATIC_ORDER)])
               * _W * ((2 * np.arange(STATIC_ORDER) + 1) / 2.0)[:, None])
ENDPOINT_NODES = 0.5 * (legendre.leggauss(ENDPOINT_ORDER)[0] + 1.0)
ENDPOINT_WEIGHTS = 0.5 * legendre.leggauss(ENDPOINT_ORDER)[1]
#: Legendre coefficients of q in :math:`\\int_t^1 p = (1-t)\\,q(t)`, p the interpolant through
#: one panel's nodes: (order, order), applied to the integrand's values on that panel.
_ANTI_LEG = np.zeros((STATIC_ORDER, STATIC_ORDER))
for _l in range(STATIC_ORDER):
    _anti = legendre.legint(np.eye(STATIC_ORDER)[_l])  # an antiderivative A of P_l
    _mono = -legendre.leg2poly(_anti)
    _mono[0] += legendre.legval(1.0, _anti)  # int_t^1 P_l = A(1) - A(t), zero at t = 1 ...
    _quot = legendre.poly2leg(np.polynomial.polynomial.polydiv(_mono, [1.0, -1.0])[0])  # ... = (1 - t) q_l
    _ANTI_LEG[_l, :_quot.size] = _quot
_ANTI_LEG = _COEF_LOCAL.T @ _ANTI_LEG
#: strictly-upper-triangular ones: row k sums the panels above panel k
_ABOVE = np.triu(np.ones((_LO.size, _LO.size)), 1)
for _a in (NODES, FULL_WEIGHTS, _COEF_LOCAL, _ABOVE, _ANTI_LEG, ENDPOINT_NODES, ENDPOINT_WEIGHTS):
    _a.setflags(write=False)


def check_redshift(z, name: str = "z"):
    """The one input check of every public kernel: ``z`` as float64 redshift(s).

    Outside jit (a concrete number, list or array) it returns a numpy float64 array and
    refuses, naming ``name`` and the value: non-numbers (strings, None, booleans,
    complex, objects) with a TypeError, and NaN or negative redshifts with a ValueError.
    Inside jit (a traced value) it cannot raise, so negative redshifts become NaN.

    Raises:
        TypeError: not a real number or an array of real numbers.
        ValueError: NaN or a negative redshift.

    Example:
        >>> check_redshift([0.0, 1.5]).tolist()
        [0.0, 1.5]
    """
    if isinstance(z, jax.core.Tracer):
        zt = jnp.asarray(z, jnp.float64)
        return jnp.where(zt >= 0.0, zt, jnp.nan)
    shown = repr(z) if len(repr(z)) <= 60 else repr(z)[:57] + "..."
    if z is None or isinstance(z, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(z).__name__} ({shown})")
    try:
        arr = np.asarray(z)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {shown}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {type(z).__name__} "
                        f"of dtype {arr.dtype} ({shown})")
    arr = arr.astype(np.float64)
    bad = np.isnan(arr) | (arr < 0.0)
    if np.any(bad):
        raise ValueError(f"{name} must be a redshift >= 0, got {arr[bad].ravel()[0]:g}"
                         + (f" (and {int(bad.sum()) - 1} more)" if bad.sum() > 1 else ""))
    return arr


def _asz(z):
    return jnp.asarray(check_redshift(z), dtype=jnp.float64)


def u8e2(u, p: Mapping):
    """:math:`u^8 E^2(z)` at :math:`u = (1+z)^{-1/2}` (finite as :math:`u\\to0`)."""
    u2 = u * u
    return (u2 * u2) ** 2 * e2_zp1(1.0 / u2, p)


def los_integrand(u, p):
    """Dimensionless integrand :math:`2u/\\sqrt{u^8E^2}` so that :math:`\\chi = (c/H_0)\\int du\\,(\\cdot)`."""
    return 2.0 * u / jnp.sqrt(u8e2(u, p))


def _panel_position(u, xp):
    """Panel index k of each u and its position tq in [-1, 1] within that panel."""
    k = xp.sum(u[:, None] >= xp.asarray(STATIC_EDGES[1:-1])[None, :], axis=1)  # no search loop
    tq = xp.clip((u - xp.asarray(_LO)[k]) / xp.asarray(_HALF)[k] - 1.0, -1.0, 1.0)
    return k, tq


def integrate_from(u, fvals, xp=jnp):
    """:math:`\\int_{u_i}^1 f` from the integrand at :data:`NODES`: the panel rule, evaluated
    panel-wise (O(len(u) x order) work).

    Panels above :math:`u_i` contribute their Gauss-Legendre sums. On the panel containing
    :math:`u_i`, at position :math:`t \\in [-1, 1]`, the integral of the degree-15 polynomial
    interpolating :math:`f` at that panel's nodes, from :math:`t` to the panel's top, is
    :math:`(1-t)\\,q(t)` with :math:`q` of degree 15; its Legendre coefficients follow from
    the integrand's values by one constant matrix (:data:`_ANTI_LEG`) and :math:`q` is summed by
    Clenshaw's recurrence (elementwise work only). The factor :math:`1-t` keeps small
    integrals (z → 0) accurate relative to their size; a point on a panel's lower edge
    takes that panel's full Gauss-Legendre sum.

    Args:
        u: 1-D array of :math:`u` in [0, 1] (traced or concrete).
        fvals: integrand(s) at :data:`NODES`, shape ``(128,)`` or ``(128, m)``.
        xp: ``jax.numpy`` (traceable, differentiable) or ``numpy`` (build time).

    Returns:
        ``(len(u),)`` or ``(len(u), m)``.
    """
    u = xp.asarray(u, xp.float64)
    k, tq = _panel_position(u, xp)
    f = xp.asarray(fvals, xp.float64)
    vector = f.ndim == 1
    f = xp.reshape(f, (_LO.size, STATIC_ORDER, -1))  # (panels, order, m)
    sums = xp.einsum("kjm,kj->km", f, xp.asarray(np.reshape(FULL_WEIGHTS, (_LO.size, STATIC_ORDER))))
    c = (xp.einsum("kjm,jl->klm", f, xp.asarray(_ANTI_LEG)) * xp.asarray(_HALF)[:, None, None])[k]  # q's coefficients
    t = tq[:, None]
    y1 = xp.zeros_like(c[:, 0])
    y2 = xp.zeros_like(y1)
    for j in range(STATIC_ORDER - 1, 0, -1):  # Clenshaw: P_{j+1} = ((2j+1) t P_j - j P_{j-1}) / (j+1)
        y1, y2 = c[:, j] + ((2 * j + 1) / (j + 1)) * t * y1 - ((j + 1) / (j + 2)) * y2, y1
    part = xp.where(t <= -1.0, sums[k], (1.0 - t) * (c[:, 0] + t * y1 - 0.5 * y2))
    out = (xp.asarray(_ABOVE) @ sums)[k] + part
    return out[:, 0] if vector else out


def rule_weights(u) -> np.ndarray:
    """Weights :math:`W_{ij}` with :math:`\\int_{u_i}^1 f\\,du = \\sum_j W_{ij} f(x_j)`, :math:`x` = :data:`NODES`
    (numpy, build time): :func:`integrate_from` applied to the 128 unit vectors.

    Args:
        u: 1-D array of :math:`u = (1+z)^{-1/2}` in [0, 1].

    Returns:
        ``(len(u), 128)`` array.
    """
    return integrate_from(np.asarray(u, np.float64), np.eye(NODES.size), np)


@functools.lru_cache(maxsize=64)
def _static_rule_cached(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    u = np.frombuffer(key, dtype=np.float64)
    matrix = np.vstack([rule_weights(u), FULL_WEIGHTS])
    matrix.setflags(write=False)
    return NODES, matrix


def static_rule(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`rule_weights` for concrete points, computed once (numpy) and cached.

    Returns:
        ``(NODES, matrix)``: the 128 nodes and a ``(len(u) + 1, 128)`` matrix whose rows are
        the weights of :math:`\\int_{u_i}^1` and, last, of :math:`\\int_0^1`.
    """
    return _static_rule_cached(np.ascontiguousarray(u, dtype=np.float64).tobytes())


register_cache("cosmology.background.static_rule", _static_rule_cached.cache_clear)


def u_flat(z):
    """:math:`u = (1+z)^{-1/2}` flattened to 1-D (numpy when ``z`` is concrete) and the shape of ``z``."""
    if isinstance(z, jax.core.Tracer):
        return jnp.reshape(1.0 / jnp.sqrt(1.0 + z), (-1,)), jnp.shape(z)
    zn = np.asarray(z, dtype=np.float64)
    return (1.0 / np.sqrt(1.0 + zn)).ravel(), zn.shape


@functools.lru_cache(maxsize=64)
def _trimmed_rule_cached(key: bytes) -> tuple[np.ndarray, int]:
    matrix = _static_rule_cached(key)[1][:-1]
    used = np.any(matrix != 0.0, axis=0)
    first = int(np.argmax(used)) if used.any() else NODES.size
    trimmed = np.ascontiguousarray(matrix[:, first:])
    trimmed.setflags(write=False)
    return trimmed, first


register_cache("cosmology.background.static_integrals", _trimmed_rule_cached.cache_clear)


def static_integrals(u: np.ndarray, fvals):
    """:math:`\\int_{u_i}^1 f` for concrete ``u`` by the cached weight matrix of :func:`static_rule`.

    The integrals reach down only to the lowest panel holding a :math:`u_i`, so the matrix's
    leading all-zero columns (nodes at higher redshift than every point) are dropped once: for
    supernova redshifts (z ≤ 2.3) 32 of the 128 columns remain, a 4x smaller product with the
    same sums term by term.

    Args:
        u: concrete 1-D :math:`u = (1+z)^{-1/2}` in [0, 1].
        fvals: the integrand at :data:`NODES`, shape ``(128,)`` or ``(128, m)``.
    """
    matrix, first = _trimmed_rule_cached(np.ascontiguousarray(u, dtype=np.float64).tobytes())
    return jnp.asarray(matrix) @ fvals[first:]


def integrals_to_one(u, fvals):
    """:math:`\\int_{u_i}^1 f` for 1-D ``u``: the cached weight matrix when ``u`` is concrete
    (:func:`static_rule`); when traced, the panel-wise evaluation of the same rule
    (:func:`integrate_from`; O(n x 16) work instead of O(n x 128))."""
    un = _concrete_u(u)
    if un is not None:
        return static_integrals(un, fvals)
    return integrate_from(u, fvals)


def _concrete_u(u):
    """``u`` as a 1-D numpy array when it is concrete (not traced) and small enough to cache; else None."""
    if isinstance(u, jax.core.Tracer):
        return None
    try:
        un = np.asarray(u, dtype=np.float64)
    except Exception:  # pragma: no cover - exotic array types
        return None
    if un.size == 0 or un.size > STATIC_MAX or not np.all(np.isfinite(un)):
        return None
    return un.ravel()


def hubble_distance(p: Mapping):
    """:math:`c/H_0` [Mpc]."""
    return constants.C_KM_S / jnp.asarray(p["H0"], jnp.float64)


def expansion_rate(z, p: Mapping):
    """:math:`E(z) = H(z)/H_0`."""
    z = check_redshift(z)
    # concrete redshifts stay numpy: factors of fixed parameters at them fold to constants
    zp1 = 1.0 + (np.asarray(z, np.float64) if is_constant(z) else jnp.asarray(z, jnp.float64))
    return jnp.sqrt(e2_zp1(zp1, p))


def hubble(z, p: Mapping):
    """Hubble rate :math:`H(z) = H_0 E(z)` [km/s/Mpc]."""
    return jnp.asarray(p["H0"], jnp.float64) * expansion_rate(z, p)


def comoving_distance(z, p: Mapping):
    """Line-of-sight comoving distance :math:`D_C = \\int_0^z c\\,dz'/H(z')` [Mpc].

    One rule for every input: its weight matrix (:func:`rule_weights`) is cached for
    concrete redshifts, and traced ones are summed panel-wise (:func:`integrate_from`).
    Differentiable in the parameters and, for traced redshifts, in ``z``.
    """
    u, shape = u_flat(check_redshift(z))
    dc = integrals_to_one(u, los_integrand(NODES, p))  # numpy nodes: fixed-parameter factors fold to constants
    return hubble_distance(p) * jnp.reshape(dc, shape)


def _sinc_curvature(y):
    """:math:`S(y) = \\sinh(\\sqrt y)/\\sqrt y` for y>0, :math:`\\sin(\\sqrt{-y})/\\sqrt{-y}` for y<0,
    smooth (and with finite gradients) through y = 0."""
    small = jnp.abs(y) < 1e-4
    ys = jnp.where(small, 1.0, y)
    r = jnp.sqrt(jnp.abs(ys))
    big = jnp.where(ys > 0, jnp.sinh(r) / r, jnp.sin(r) / r)
    series = 1.0 + y / 6.0 + y * y / 120.0 + y**3 / 5040.0
    return jnp.where(small, series, big)


def comoving_transverse_distance(z, p: Mapping):
    """Transverse comoving distance :math:`D_M` [Mpc] (Hogg 1999, astro-ph/9905116, eq. 16).

    .. math::

        D_M = D_C\\,S\\!\\left(\\Omega_k D_C^2/D_{H_0}^2\\right),\\quad
        S(y) = \\sinh\\sqrt y/\\sqrt y\\ (y>0),\\ \\sin\\sqrt{-y}/\\sqrt{-y}\\ (y<0).
    """
    return transverse_from_radial(comoving_distance(z, p), p)


def transverse_from_radial(dc, p: Mapping):
    """:math:`D_M` from the line-of-sight comoving distance :math:`D_C` (curvature correction).

    A concrete (untraced) ``Ok0 == 0`` skips the correction at trace time.
    """
    ok_raw = p.get("Ok0", 0.0)
    if isinstance(ok_raw, (int, float)) and not isinstance(ok_raw, bool) and ok_raw == 0.0:
        return dc
    ok = densities(p).omega_k
    return dc * _sinc_curvature(ok * (dc / hubble_distance(p)) ** 2)


def angular_diameter_distance(z, p: Mapping):
    """:math:`D_A = D_M/(1+z)` [Mpc]."""
    z = check_redshift(z)
    return comoving_transverse_distance(z, p) / (1.0 + _asz(z))


def luminosity_distance(z, p: Mapping):
    """:math:`D_L = (1+z) D_M` [Mpc]."""
    z = check_redshift(z)
    return comoving_transverse_distance(z, p) * (1.0 + _asz(z))


def hubble_distance_z(z, p: Mapping):
    """:math:`D_H(z) = c/H(z)` [Mpc]."""
    return constants.C_KM_S / hubble(z, p)


def volume_averaged_distance(z, p: Mapping):
    """:math:`D_V = [z D_M^2 D_H]^{1/3}` [Mpc] (Eisenstein et al. 2005, astro-ph/0501171)."""
    z = _asz(z)
    dm = comoving_transverse_distance(z, p)
    return jnp.cbrt(z * dm**2 * hubble_distance_z(z, p))


def distance_modulus(z, p: Mapping, z_hel=None):
    """Distance modulus :math:`\\mu = 5\\log_{10}[(1+z_{hel}) D_M(z)/{\\rm Mpc}] + 25`.

    Args:
        z: cosmological (CMB-frame) redshift used for :math:`D_M`.
        p: parameter dict.
        z_hel: heliocentric redshift for the :math:`(1+z)` factor (default: ``z``).
    """
    z = check_redshift(z)
    zh = _asz(z) if z_hel is None else _asz(check_redshift(z_hel, "z_hel"))
    return 5.0 * jnp.log10((1.0 + zh) * comoving_transverse_distance(z, p)) + 25.0


def _sound_speed_factor(u, p: Mapping):
    """:math:`c_s/c = 1/\\sqrt{3(1+R_0u^2)}` at :math:`u`, :math:`R_0=3\\omega_b/(4\\omega_\\gamma)` (needs ``Obh2``)."""
    d = densities(p)
    r0 = 0.75 * jnp.asarray(p["Obh2"], jnp.float64) / (d.omega_gamma * d.h**2)
    return 1.0 / jnp.sqrt(3.0 * (1.0 + r0 * u * u))


def sound_speed_integrand(u, p: Mapping):
    """Integrand of :math:`r_s` in u: :math:`2u/(\\sqrt{u^8E^2}\\sqrt{3(1+R_0u^2)})`, :math:`R_0=3\\omega_b/(4\\omega_\\gamma)`."""
    return los_integrand(u, p) * _sound_speed_factor(u, p)


def sound_horizon(z, p: Mapping, a_min=0.0):
    """Comoving sound horizon :math:`r_s(z) = \\int_z^\\infty c_s\\,dz'/H(z')` [Mpc].

    .. math::

        c_s = \\frac{c}{\\sqrt{3(1+R_b)}},\\qquad R_b = \\frac{3\\omega_b}{4\\omega_\\gamma(1+z)},

    using the model's own :math:`H(z)` (Eisenstein & Hu 1998, astro-ph/9709112, eq. 6).

    Args:
        z: redshift(s).
        p: parameter dict (needs ``Obh2``).
        a_min: lower scale-factor limit of the integral (0 = from the Big Bang;
            CAMB starts at 1e-9, which removes ~2e-6 of r_s).
    """
    u, shape = u_flat(check_redshift(z))
    g = sound_speed_integrand(jnp.asarray(NODES), p)
    # int_{u_min}^{u} g = int_{u_min}^1 g - int_u^1 g, one rule for both
    start = jnp.dot(jnp.asarray(FULL_WEIGHTS), g) if not a_min else integrals_to_one(np.array([np.sqrt(a_min)]), g)[0]
    head = start - integrals_to_one(u, g)
    return hubble_distance(p) * jnp.reshape(head, shape)


def recombination_integrals(p: Mapping, z_star, z_drag, z=None):
    """:math:`r_s(z_*)`, :math:`r_s(z_d)`, :math:`D_C(z_*)` and :math:`D_C(z)` [Mpc] from one integrand evaluation.

    :math:`z_*` and :math:`z_d` depend on the parameters, so the integrals up to them have a
    moving end point. They are taken over :math:`[0, u]` on a Gauss-Legendre rule scaled
    to that interval (:data:`ENDPOINT_ORDER` nodes that move with :math:`u`):

    .. math::

        \\int_0^{u} g = u\\sum_i w_i\\,g(u s_i),\\qquad
        D_C(z_*) = \\frac{c}{H_0}\\Big[\\int_0^1 f - \\int_0^{u_*} f\\Big],

    with the full-range integral on the 128 fixed nodes of :func:`rule_weights`. On
    :math:`[0, u_*]` (:math:`u_* \\approx 0.03`) the integrands are analytic well beyond the
    interval, so the scaled rule agrees with the panel rule to <= 3e-13 over the parameter
    bounds (``tests/cosmology/test_background.py``); its derivatives with respect to the
    end point are those of a plain weighted sum, whose compiled second-derivative graph
    is several times smaller than that of the panel-interpolated rule
    (:func:`integrate_from`), which matters for the exact Hessians of the fits. The
    integrand is evaluated once, at the 128 fixed nodes and the :math:`2\\times`
    :data:`ENDPOINT_ORDER` moving ones, for the line of sight and the sound horizon.

    Args:
        p: parameter dict (needs ``Obh2``).
        z_star: decoupling redshift (may be traced).
        z_drag: drag redshift (may be traced).
        z: optional concrete redshifts (numpy, at most :data:`STATIC_MAX`, >= 0) at which
            :math:`D_C` is wanted too.

    Returns:
        ``(r_s(z_*), r_s(z_d), D_C(z_*))``, plus ``D_C(z)`` as a fourth entry when ``z`` is given.
    """
    u = 1.0 / jnp.sqrt(1.0 + jnp.stack([_asz(z_star), _asz(z_drag)]))
    moving = u[:, None] * jnp.asarray(ENDPOINT_NODES)[None, :]  # (2, ENDPOINT_ORDER)
    los_m = los_integrand(moving, p)
    snd_m = los_m * _sound_speed_factor(moving, p)  # sound_speed_integrand, sharing the E^2 evaluation
    w = jnp.asarray(ENDPOINT_WEIGHTS)
    head_snd = u * (snd_m @ w)  # int_0^u of the sound-speed integrand
    head_los = u[0] * jnp.dot(los_m[0], w)  # int_0^{u_*} of the line of sight
    scale = hubble_distance(p)
    # the fixed nodes apart from the moving ones: with the parameters fixed their values are constants
    los = los_integrand(NODES, p)
    full_los = jnp.dot(jnp.asarray(FULL_WEIGHTS), los)
    out = (scale * head_snd[0], scale * head_snd[1], scale * (full_los - head_los))
    if z is None:
        return out
    dc = static_integrals(1.0 / np.sqrt(1.0 + np.asarray(z, np.float64).ravel()), los)
    return out + ((scale * dc).reshape(np.shape(z)),)
