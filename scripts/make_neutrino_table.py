"""Tabulate the massive-neutrino energy density: ``src/pbufjax/cosmology/neutrino_fd.json``.

For one thermal species of mass :math:`m` and temperature :math:`T_\\nu` the energy density
relative to the same species if massless is

.. math::

    R(y) = \\frac{F(y)}{F(0)},\\qquad F(y) = \\int_0^\\infty \\frac{x^2\\sqrt{x^2+y^2}}{e^x+1}\\,dx,
    \\qquad F(0) = \\frac{7\\pi^4}{120},\\qquad y = \\frac{m a}{k_B T_\\nu}.

``R`` is stored as :math:`g = \\ln R` and :math:`dg/dt` on a uniform grid of :math:`t = \\ln y`
(step :data:`STEP`) over :math:`10^{-3} \\le y \\le 300`, both from mpmath quadrature at 30
digits (:math:`dF/dy = \\int x^2 y (x^2+y^2)^{-1/2}/(e^x+1)\\,dx`); the kernel interpolates
them with cubic Hermite polynomials (C¹, a few gathers and a dozen multiply-adds per point),
and uses the expansions outside: :math:`R = 1 + \\tfrac{5}{7\\pi^2}y^2` below (the next
term is :math:`O(y^4\\ln y)`, < 1e-11 there), and
:math:`F = I_2 y + I_4/(2y) - I_6/(8y^3) + I_8/(16y^5)` above, with
:math:`I_n = \\int_0^\\infty x^n/(e^x+1)dx = (1-2^{-n})\\,n!\\,\\zeta(n+1)`.
The maximum relative error on 2000 points not used in the fit is stored in the file.

Run:  python scripts/make_neutrino_table.py   (about 20 s)
"""

from __future__ import annotations

import json
import pathlib
import sys

import numpy as np
from mpmath import exp, inf, log, mp, mpf, pi, quad, sqrt, zeta

OUT = pathlib.Path(__file__).resolve().parents[1] / "src" / "pbufjax" / "cosmology" / "neutrino_fd.json"
Y_LO, Y_HI = 1e-3, 300.0
STEP = 0.01
mp.dps = 30


PTS = [0, 1, 3, 8, 20, 50, inf]


def fd(y) -> mpf:
    y = mpf(y)
    return quad(lambda x: x * x * sqrt(x * x + y * y) / (exp(x) + 1), PTS)


def fd_dy(y) -> mpf:
    y = mpf(y)
    return quad(lambda x: x * x * y / sqrt(x * x + y * y) / (exp(x) + 1), PTS)


F0 = 7 * pi**4 / 120


def moment(n: int) -> float:
    """:math:`I_n = (1-2^{-n}) n! \\zeta(n+1)`."""
    return float((1 - mpf(2) ** -n) * mp.factorial(n) * zeta(n + 1))


def main() -> None:
    t0 = float(np.log(Y_LO))
    n = int(round((np.log(Y_HI) - t0) / STEP)) + 1
    ts = t0 + STEP * np.arange(n)
    g, dg = np.empty(n), np.empty(n)
    for j, t in enumerate(ts):
        y = mp.exp(mpf(t))
        f = fd(y)
        g[j] = float(log(f / F0))
        dg[j] = float(y * fd_dy(y) / f)
    i2, i4, i6, i8 = (moment(k) for k in (2, 4, 6, 8))
    out = {
        "description": "g = ln R(y) = ln[F(y)/F(0)], F(y) = int_0^inf x^2 sqrt(x^2+y^2)/(e^x+1) dx, and dg/dt on the "
                       "grid t = t0 + step * k of t = ln y; cubic Hermite interpolation in between",
        "y_lo": Y_LO, "y_hi": float(np.exp(ts[-1])), "t0": t0, "step": STEP, "n": n,
        "g": g.tolist(), "dg_dt": dg.tolist(),
        "moments": {"I2": i2, "I4": i4, "I6": i6, "I8": i8}, "F0": float(F0),
    }
    OUT.write_text(json.dumps(out) + "\n")
    # the shipped kernel (Hermite interpolation and the two expansions) against quadrature
    sys.path.insert(0, str(OUT.parents[2]))
    from pbufjax.cosmology import neutrinos

    neutrinos.table.cache_clear()
    test_y = np.exp(np.random.default_rng(1).uniform(np.log(1e-5), np.log(1e4), 2000))
    got = np.asarray(neutrinos.density_ratio(test_y))
    worst = max(abs(r / float(fd(y) / F0) - 1) for r, y in zip(got, test_y))
    out.update(max_rel_error_test=worst, n_test=len(test_y), test_range=[1e-5, 1e4])
    OUT.write_text(json.dumps(out) + "\n")
    print(f"wrote {OUT}: max relative error {worst:.2e} on {len(test_y)} points")


if __name__ == "__main__":
    main()
