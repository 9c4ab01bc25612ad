"""Background observables: H(z) and cosmological distances.

All distances are computed from one integral over the variable
:math:`u = a^{1/2} = (1+z)^{-1/2}`, in which the line-of-sight integrand is a
smooth, bounded function from :math:`z=0` (:math:`u=1`) to :math:`z=\\infty`
(:math:`u=0`):

.. math::

    \\chi(z) = \\int_0^z \\frac{c\\,dz'}{H(z')}
             = \\frac{c}{H_0}\\int_{u(z)}^{1} \\frac{2u\\,du}{\\sqrt{u^8 E^2(u^{-2}-1)}},

since :math:`u^8E^2 \\to \\Omega_r + \\Omega_m u^2 + \\dots` stays finite. Three rules:

* **fixed redshifts** (concrete arrays of up to :data:`STATIC_MAX` values, the case of
  every dataset): :func:`static_rule`, 128 Gauss-Legendre nodes on 9 graded panels, with
  interpolatory weights on the panel containing each redshift. Every distance is one
  row of a static matrix applied to the integrand at the nodes (relative error < 1e-13,
  < 1e-10 at the corners of the parameter bounds);
* **traced redshifts** (under ``jax.vmap``/``jit`` over z): 48 uniform panels of
  8-point rules whose sums are accumulated once per call, plus one rule over each
  redshift's partial panel (relative error < 1e-12); arrays of more than
  :data:`INTERP_THRESHOLD` redshifts interpolate the cumulative integral on 256 panels
  with cubic Hermite polynomials (relative error < 3e-8);
* **sound horizons** :math:`r_s(z_*)`, :math:`r_s(z_d)`: one 20-point rule on
  :math:`[0, u]` (:func:`recombination_integrals`, relative error ~1e-13).

See ``tests/cosmology/test_background.py``.

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
from .models import densities, e2_zp1

#: Number of uniform panels in u on [0, 1] for the exact (partial-panel) rule.
N_PANELS = 48
#: Gauss-Legendre order per (partial) panel.
GL_ORDER = 8
#: Arrays with more redshifts than this use the interpolated rule.
INTERP_THRESHOLD = 64
#: Panels of the interpolated rule (cubic Hermite on the cumulative integral).
N_INTERP_PANELS = 256
#: Gauss-Legendre order per panel of the interpolated rule.
INTERP_GL_ORDER = 4

#: Gauss-Legendre order of the single rule on [0, u(z)] giving the sound horizon at z_* and z_d.
RECOMB_GL_ORDER = 20

_GL_XN, _GL_WN = np.polynomial.legendre.leggauss(GL_ORDER)
_GL_X, _GL_W = jnp.asarray(_GL_XN), jnp.asarray(_GL_WN)
# rule on [0, 1]: nodes t_k and weights w_k, so that int_0^u f = u sum_k w_k f(u t_k)
_REC_T, _REC_W = (lambda x, w: (0.5 * (1.0 + x), 0.5 * w))(*np.polynomial.legendre.leggauss(RECOMB_GL_ORDER))
_GLI_X, _GLI_W = (jnp.asarray(a) for a in np.polynomial.legendre.leggauss(INTERP_GL_ORDER))
_EDGES = np.linspace(0.0, 1.0, N_PANELS + 1)
_IEDGES = np.linspace(0.0, 1.0, N_INTERP_PANELS + 1)


def _asz(z):
    return jnp.asarray(z, dtype=jnp.float64)


def u8e2(u, p: Mapping):
    """:math:`u^8 E^2(z)` at :math:`u = (1+z)^{-1/2}` (finite as :math:`u\\to0`)."""
    u2 = u * u
    return (u2 * u2) ** 2 * e2_zp1(1.0 / u2, p)


def _los_integrand(u, p):
    """Dimensionless integrand :math:`2u/\\sqrt{u^8E^2}` so that :math:`\\chi = (c/H_0)\\int du\\,(\\cdot)`."""
    return 2.0 * u / jnp.sqrt(u8e2(u, p))


def _gl(f, lo, hi, nodes=None, weights=None):
    """Gauss-Legendre rule on [lo, hi] (broadcast over lo/hi)."""
    nodes = _GL_X if nodes is None else nodes
    weights = _GL_W if weights is None else weights
    lo = lo[..., None]
    hi = hi[..., None]
    half = 0.5 * (hi - lo)
    x = lo + half * (1.0 + nodes)
    return jnp.sum(weights * f(x), axis=-1) * half[..., 0]


def _tail_sums(f, edges, nodes=None, weights=None):
    """I[i] = integral of f from edge_i to 1, for every panel edge (panel rules accumulated from u = 1 down)."""
    panels = _gl(f, edges[:-1], edges[1:], nodes, weights)
    tail = jnp.cumsum(panels[::-1])[::-1]
    return jnp.concatenate([tail, jnp.zeros(1)])


def _integral_exact(f, u):
    """Integral of f from u to 1: full panels plus one Gauss-Legendre rule over the partial panel."""
    edges = jnp.asarray(_EDGES)
    tail = _tail_sums(f, edges)
    idx = jnp.clip(jnp.floor(u * N_PANELS).astype(jnp.int32), 0, N_PANELS - 1)
    return tail[idx + 1] + _gl(f, u, edges[idx + 1])


def _integral_interp(f, u):
    """Integral of f from u to 1 by cubic Hermite interpolation of the cumulative integral.

    The derivative of the cumulative integral is the integrand itself, known at the
    edges, so the interpolant costs no extra integrand evaluations per redshift.
    The error is O(h^4) times the integrand's third derivative: below 3e-8
    relative for the registered models.
    """
    edges = jnp.asarray(_IEDGES)
    tail = _tail_sums(f, edges, _GLI_X, _GLI_W)
    fe = f(jnp.maximum(edges, 1e-8))  # f(0) = 0 is the limit; avoid 0 * inf at u = 0 (NaN gradients)
    h = 1.0 / N_INTERP_PANELS
    # one (panels, 4) table gathered once: its reverse pass is a single row scatter
    table = jnp.stack([tail[:-1], tail[1:], -h * fe[:-1], -h * fe[1:]], axis=1)
    i = jnp.clip(jnp.floor(u * N_INTERP_PANELS).astype(jnp.int32), 0, N_INTERP_PANELS - 1)
    t = (u - edges[i]) / h
    t2 = t * t
    t3 = t2 * t
    weights = jnp.stack([2 * t3 - 3 * t2 + 1, 3 * t2 - 2 * t3, t3 - 2 * t2 + t, t3 - t2], axis=-1)
    return jnp.sum(table[i] * weights, axis=-1)


def _integral_zero_to_u(f, u):
    """Integral of f from 0 to u: full panels from u = 0 up plus one partial-panel rule (no cancellation)."""
    edges = jnp.asarray(_EDGES)
    panels = _gl(f, edges[:-1], edges[1:])
    head = jnp.concatenate([jnp.zeros(1), jnp.cumsum(panels)])  # integral from 0 to edge_i
    idx = jnp.clip(jnp.floor(u * N_PANELS).astype(jnp.int32), 0, N_PANELS - 1)
    return head[idx] + _gl(f, edges[idx], u)


#: Panel edges in u of the static rule, graded towards u = 0, where the integrand's
#: nearest complex singularities lie (:math:`u^2 = -\\Omega_r/\\Omega_m`).
STATIC_EDGES = np.array([0.0, 0.0125, 0.035, 0.1, 0.25, 0.45, 0.65, 0.825, 1.0])
#: Gauss-Legendre nodes per panel of the static rule.
STATIC_ORDER = 16
#: Concrete redshift arrays up to this size use the static rule (its matrix has
#: ``(n + 1) x 128`` entries); larger ones use the interpolated rule.
STATIC_MAX = 4096


def _partial_panel_weights(tq: np.ndarray, t: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weights :math:`W_{ij}` with :math:`\\int_{t_i}^1 p(s)\\,ds = \\sum_j W_{ij} p(t_j)` for every polynomial
    of degree < m, with ``t`` the m Gauss-Legendre nodes on [-1, 1] (interpolatory rule).

    The Lagrange basis through the nodes has Legendre coefficients
    :math:`c_{lj} = w_j P_l(t_j)(2l+1)/2` (discrete orthogonality), and
    :math:`\\int_t^1 P_0 = 1-t`, :math:`\\int_t^1 P_l = [P_{l-1}(t)-P_{l+1}(t)]/(2l+1)`.
    """
    m = t.size
    eye = np.eye(m + 2)
    coef = np.stack([legendre.legval(t, eye[k]) for k in range(m)]) * w * ((2 * np.arange(m) + 1) / 2.0)[:, None]
    integ = np.empty((tq.size, m))
    integ[:, 0] = 1.0 - tq
    for k in range(1, m):
        integ[:, k] = (legendre.legval(tq, eye[k - 1]) - legendre.legval(tq, eye[k + 1])) / (2 * k + 1)
    return integ @ coef


@functools.lru_cache(maxsize=64)
def _static_rule_cached(key: bytes) -> tuple[np.ndarray, np.ndarray]:
    u = np.frombuffer(key, dtype=np.float64)
    edges, m = STATIC_EDGES, STATIC_ORDER
    t, w = legendre.leggauss(m)
    lo, hi = edges[:-1], edges[1:]
    half = 0.5 * (hi - lo)
    nodes = (lo[:, None] + half[:, None] * (1.0 + t)).ravel()
    full = (half[:, None] * w).ravel()
    k = np.clip(np.searchsorted(edges, u, side="right") - 1, 0, lo.size - 1)
    tq = np.clip((u - lo[k]) / half[k] - 1.0, -1.0, 1.0)
    part = half[k, None] * _partial_panel_weights(tq, t, w)  # (n, m)
    # exact at the panel ends: nothing left at its top, the Gauss-Legendre weights at its bottom
    part = np.where(tq[:, None] >= 1.0, 0.0, np.where(tq[:, None] <= -1.0, half[k, None] * w, part))
    col = np.arange(nodes.size)[None, :]
    matrix = np.where(col >= (k[:, None] + 1) * m, full[None, :], 0.0)
    rows = np.arange(u.size)[:, None]
    matrix[rows, k[:, None] * m + np.arange(m)[None, :]] = part
    matrix = np.vstack([matrix, full])
    matrix.setflags(write=False)
    nodes.setflags(write=False)
    return nodes, matrix


def static_rule(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Quadrature rule for :math:`\\int_{u_i}^1 f\\,du` at fixed (concrete) points :math:`u_i \\in [0, 1]`.

    One fixed set of nodes serves every point: :data:`STATIC_ORDER` Gauss-Legendre nodes
    on each of the panels :data:`STATIC_EDGES` (128 nodes). Panels above :math:`u_i`
    get their Gauss-Legendre weights; the panel containing :math:`u_i` gets the weights
    of the integral of the polynomial interpolating :math:`f` at its nodes, from
    :math:`u_i` to the panel's top (:func:`_partial_panel_weights`). Every integral is
    then a row of :math:`I = M f(x)`, with one row per point and a last row for
    :math:`[0, 1]`: the integrand is evaluated once, one matrix-vector product gives
    every distance, and the reverse pass is one product with :math:`M^T` (no gathers,
    scatters or cumulative sums). Relative error < 1e-13 for ΛCDM-like expansion
    histories, < 1e-10 at the corners of the w0waCDM and Ωm bounds
    (``tests/cosmology/test_background.py``).

    Returns:
        ``(nodes, matrix)``: numpy arrays of shapes ``(N,)`` and ``(len(u) + 1, N)``.
    """
    return _static_rule_cached(np.ascontiguousarray(u, dtype=np.float64).tobytes())


def _concrete_redshifts(z):
    """``z`` as a flat numpy array when it is concrete (not traced), usable by :func:`static_rule`; else None."""
    if isinstance(z, jax.core.Tracer):
        return None
    try:
        zn = np.asarray(z, dtype=np.float64)
    except Exception:  # pragma: no cover - exotic array types
        return None
    if zn.size == 0 or zn.size > STATIC_MAX or not np.all(np.isfinite(zn)) or np.any(zn < 0.0):
        return None
    return zn


def _integral_u_to_one(f, u):
    """Integral of f from u to 1 for u in (0, 1]: exact rule for small arrays, interpolated for large ones."""
    if u.size > INTERP_THRESHOLD:
        return _integral_interp(f, u)
    return _integral_exact(f, u)


def hubble_distance(p: Mapping):
    """:math:`c/H_0` [Mpc]."""
    return constants.C_KM_S / jnp.asarray(p["H0"], jnp.float64)


def expansion_rate(z, p: Mapping):
    """:math:`E(z) = H(z)/H_0`."""
    zp1 = 1.0 + _asz(z)
    return jnp.sqrt(e2_zp1(zp1, p))


def hubble(z, p: Mapping):
    """Hubble rate :math:`H(z) = H_0 E(z)` [km/s/Mpc]."""
    return jnp.asarray(p["H0"], jnp.float64) * expansion_rate(z, p)


def comoving_distance(z, p: Mapping):
    """Line-of-sight comoving distance :math:`D_C = \\int_0^z c\\,dz'/H(z')` [Mpc].

    Concrete redshifts (numpy arrays, Python numbers: up to :data:`STATIC_MAX`, all >= 0) use
    :func:`static_rule`; traced ones (``z`` a ``jit``/``vmap`` argument) the panel rules
    (module docstring). Both are differentiable in the parameters.
    """
    zn = _concrete_redshifts(z)
    if zn is not None:  # fixed redshifts: one static rule (see static_rule)
        nodes, matrix = static_rule(1.0 / np.sqrt(1.0 + zn.ravel()))
        dc = jnp.dot(jnp.asarray(matrix[:-1]), _los_integrand(jnp.asarray(nodes), p))
        return hubble_distance(p) * dc.reshape(zn.shape)
    z = _asz(z)
    u = 1.0 / jnp.sqrt(1.0 + z)
    f = lambda x: _los_integrand(x, p)  # noqa: E731
    return hubble_distance(p) * _integral_u_to_one(f, u)


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
    return comoving_transverse_distance(z, p) / (1.0 + _asz(z))


def luminosity_distance(z, p: Mapping):
    """:math:`D_L = (1+z) D_M` [Mpc]."""
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
    z = _asz(z)
    zh = z if z_hel is None else _asz(z_hel)
    return 5.0 * jnp.log10((1.0 + zh) * comoving_transverse_distance(z, p)) + 25.0


def sound_speed_integrand(u, p: Mapping, obh2):
    """Integrand of :math:`r_s` in u: :math:`2u/(\\sqrt{u^8E^2}\\sqrt{3(1+R_0u^2)})`, :math:`R_0=3\\omega_b/(4\\omega_\\gamma)`."""
    d = densities(p)
    r0 = 0.75 * obh2 / (d.omega_gamma * d.h**2)
    return _los_integrand(u, p) / jnp.sqrt(3.0 * (1.0 + r0 * u * u))


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
    z = _asz(z)
    obh2 = jnp.asarray(p["Obh2"], jnp.float64)
    f = lambda x: sound_speed_integrand(x, p, obh2)  # noqa: E731
    u = 1.0 / jnp.sqrt(1.0 + z)
    head = _integral_zero_to_u(f, u)
    if a_min:
        head = head - _gl(f, jnp.zeros_like(u), jnp.full_like(u, np.sqrt(a_min)))
    return hubble_distance(p) * head


def recombination_integrals(p: Mapping, z_star, z_drag, z=None):
    """:math:`r_s(z_*)`, :math:`r_s(z_d)`, :math:`D_C(z_*)` and :math:`D_C(z)` [Mpc] from one integrand evaluation.

    The sound horizons use one :data:`RECOMB_GL_ORDER`-point Gauss-Legendre rule on
    :math:`[0, u]` with nodes :math:`u\\,t_k` (relative error ~1e-13: the integrand is
    analytic there),

    .. math::

        r_s(z) = \\frac{c}{H_0}\\,u\\sum_k w_k\\,g(u t_k),\\qquad u = (1+z)^{-1/2},

    and :math:`D_C(z_*) = (c/H_0)[\\int_0^1 f - u_*\\sum_k w_k f(u_* t_k)]`, the full
    integral coming from the static rule of :func:`static_rule` that also gives
    :math:`D_C` at the fixed redshifts ``z``. :math:`E^2` is evaluated once on the
    concatenated nodes, which keeps the compiled graph and its reverse pass small.

    Args:
        p: parameter dict (needs ``Obh2``).
        z_star: decoupling redshift (may be traced).
        z_drag: drag redshift (may be traced).
        z: optional concrete redshifts (numpy, at most :data:`STATIC_MAX`, >= 0)
            at which :math:`D_C` is wanted too.

    Returns:
        ``(r_s(z_*), r_s(z_d), D_C(z_*))``, plus ``D_C(z)`` as a fourth entry when ``z`` is given.
    """
    zn = np.zeros(0) if z is None else np.asarray(z, dtype=np.float64).ravel()
    nodes, matrix = static_rule(1.0 / np.sqrt(1.0 + zn))
    d = densities(p)
    r0 = 0.75 * jnp.asarray(p["Obh2"], jnp.float64) / (d.omega_gamma * d.h**2)
    us = 1.0 / jnp.sqrt(1.0 + _asz(z_star))
    ud = 1.0 / jnp.sqrt(1.0 + _asz(z_drag))
    t = jnp.asarray(_REC_T)
    n, k = nodes.size, _REC_T.size
    x = jnp.concatenate([jnp.asarray(nodes), us * t, ud * t])
    los = _los_integrand(x, p)
    x_rec, los_rec = x[n:].reshape(2, k), los[n:].reshape(2, k)
    snd = los_rec / jnp.sqrt(3.0 * (1.0 + r0 * x_rec * x_rec))
    ends = jnp.stack([us, ud])
    rs = ends * jnp.dot(snd, jnp.asarray(_REC_W))  # (2,)
    static = jnp.dot(jnp.asarray(matrix), los[:n])  # D_C(z) rows, then the full integral
    dc_star = static[-1] - us * jnp.dot(los_rec[0], jnp.asarray(_REC_W))
    scale = hubble_distance(p)
    out = (scale * rs[0], scale * rs[1], scale * dc_star)
    if z is None:
        return out
    return out + ((scale * static[:-1]).reshape(np.shape(z)),)
