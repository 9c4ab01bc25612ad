r"""Normalized priors of an evidence calculation: parsing, checks, unit-cube transform, density.

A prior is ``("uniform", lo, hi)`` or ``("normal", mean, sigma)`` per free parameter
(the mapping forms of :func:`pbufjax.inference.sampling.posterior.parse_priors`, and its
name ``"gaussian"`` for ``"normal"``, are accepted too). The default is uniform over the
parameter's optimization bounds. Log-space parameters (e.g. PBUF's ``Rmax``) have uniform
priors in :math:`\log_{10}\theta`, as in the sampler. Normal priors are **not** truncated
(their mass where the χ² is not finite counts as zero likelihood). The densities are
normalized:

.. math::

    \pi_U(\theta) = \frac{1}{b-a},\qquad
    \pi_{\log U}(\theta) = \frac{1}{\theta\ln 10\,(\log_{10}b-\log_{10}a)},\qquad
    \pi_N(\theta) = \frac{e^{-(\theta-\mu)^2/2\sigma^2}}{\sqrt{2\pi}\,\sigma}.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from ...cosmology.validity import valid_range
from ..sampling.posterior import parse_priors

#: Prior types of an evidence calculation (``"gaussian"`` is accepted for ``"normal"``).
EVIDENCE_PRIOR_TYPES = ("uniform", "normal")
_ALIASES = {"uniform": "uniform", "normal": "normal", "gaussian": "normal"}


class EvidencePriors(NamedTuple):
    """Per-parameter priors as arrays (order of ``names``)."""

    names: tuple  #: free parameter names
    normal: np.ndarray  #: True for a normal prior
    a: np.ndarray  #: lower bound (uniform) or mean (normal)
    b: np.ndarray  #: upper bound (uniform) or sigma (normal)
    log_mask: np.ndarray  #: True for log-space parameters (uniform in log10)

    def as_dict(self) -> dict:
        """``{name: ("uniform", lo, hi) | ("normal", mean, sigma)}``."""
        return {k: ("normal" if n else "uniform", float(a), float(b))
                for k, n, a, b in zip(self.names, self.normal, self.a, self.b)}

    def transform(self, u) -> np.ndarray:
        """Unit-cube points ``(n, k)`` → parameters ``(n, k)`` (inverse CDF per parameter)."""
        from scipy.special import ndtri

        u = np.asarray(u, np.float64)
        lo, hi = np.where(self.normal, 0.0, self.a), np.where(self.normal, 1.0, self.b)
        lin = lo + u * (hi - lo)
        safe_lo, safe_hi = np.where(self.log_mask, lo, 1.0), np.where(self.log_mask, hi, 10.0)
        tl, th = np.log10(np.maximum(safe_lo, 1e-300)), np.log10(safe_hi)
        logu = 10.0 ** (tl + u * (th - tl))
        norm = self.a + self.b * ndtri(np.clip(u, 1e-16, 1.0 - 1e-16))
        return np.where(self.normal, norm, np.where(self.log_mask, logu, lin))

    def log_density(self, theta) -> float:
        """:math:`\\ln\\pi(\\theta)` (module docstring); ``-inf`` outside a uniform range."""
        x = np.asarray(theta, np.float64)
        out = 0.0
        for xi, n, a, b, lg in zip(x, self.normal, self.a, self.b, self.log_mask):
            if n:
                out += -0.5 * ((xi - a) / b) ** 2 - math.log(math.sqrt(2 * math.pi) * b)
            elif not a <= xi <= b:
                return -math.inf
            elif lg:
                out += -math.log(xi * math.log(10.0) * (math.log10(b) - math.log10(a)))
            else:
                out += -math.log(b - a)
        return out

    def curvature(self, theta) -> np.ndarray:
        """Diagonal of :math:`-\\partial^2\\ln\\pi/\\partial\\theta^2`."""
        x = np.asarray(theta, np.float64)
        return np.where(self.normal, 1.0 / self.b ** 2, np.where(self.log_mask, -1.0 / x ** 2, 0.0))


def _translate(k: str, spec):
    """The sampler's form of one prior, with ``"normal"`` checked and renamed."""
    if isinstance(spec, Mapping):
        kind = spec.get("type", spec.get("dist"))
        kind = kind if kind is not None else ("gaussian" if "mean" in spec else "uniform")
        rest = {kk: v for kk, v in spec.items() if kk not in ("type", "dist")}
    elif isinstance(spec, (list, tuple)) and len(spec) == 3 and isinstance(spec[0], str):
        kind, rest = spec[0], None
    else:
        raise TypeError(f"prior of {k!r} must be ('uniform', lo, hi) or ('normal', mean, sigma); got {spec!r}")
    if not isinstance(kind, str) or kind.lower() not in _ALIASES:
        raise ValueError(f"prior type of {k!r} is {kind!r}; valid types: {', '.join(EVIDENCE_PRIOR_TYPES)}")
    kind = "gaussian" if _ALIASES[kind.lower()] == "normal" else "uniform"
    if rest is None:
        return (kind, spec[1], spec[2])
    return {"type": kind, **rest}


def resolve_priors(model: str, names: Sequence[str], lower, upper, log_mask, priors=None) -> EvidencePriors:
    """Checked, normalized priors of the free parameters ``names``.

    Args:
        model: model name (for the parameters' valid ranges,
            :func:`pbufjax.cosmology.validity.valid_range`).
        names: free parameter names.
        lower: the lower optimization bounds (the default uniform ranges).
        upper: the upper optimization bounds.
        log_mask: log-space flags of the parameters.
        priors: ``{name: ("uniform", lo, hi) | ("normal", mean, sigma)}`` or None.

    Raises:
        ValueError: an unknown prior type, a prior of a parameter that is not free, a
            non-finite value, a zero or negative width, a uniform range outside the
            parameter's valid range, or a normal mean outside it.
        TypeError: a prior of another form.
    """
    names = list(names)
    lo, hi = np.array(lower, np.float64), np.array(upper, np.float64)
    if priors is not None and not isinstance(priors, Mapping):
        raise TypeError(f"priors must be a dict name -> prior, got {type(priors).__name__}")
    translated = None if priors is None else {k: _translate(k, v) for k, v in priors.items()}
    gauss, mu, sig = parse_priors(translated, names, lo, hi)
    log_mask = np.asarray(log_mask, bool)
    for i, k in enumerate(names):
        vlo, vhi = valid_range(model, k)
        if gauss[i]:
            if not vlo <= mu[i] <= vhi:
                raise ValueError(f"normal prior of {k!r}: mean {mu[i]:g} is outside its valid range "
                                 f"[{vlo:g}, {vhi:g}] for model {model!r}")
        elif not vlo <= lo[i] < hi[i] <= vhi:
            raise ValueError(f"uniform prior of {k!r} ({lo[i]:g}, {hi[i]:g}) is outside its valid range "
                             f"[{vlo:g}, {vhi:g}] for model {model!r}")
        elif log_mask[i] and lo[i] <= 0:
            raise ValueError(f"uniform prior of {k!r} must be > 0 (it is uniform in log10), got ({lo[i]:g}, {hi[i]:g})")
    return EvidencePriors(tuple(names), gauss, np.where(gauss, mu, lo), np.where(gauss, sig, hi), log_mask & ~gauss)


__all__ = ["EVIDENCE_PRIOR_TYPES", "EvidencePriors", "resolve_priors"]
