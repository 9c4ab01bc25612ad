"""Gaussian priors on parameters: the block of the ``prior`` dataset type.

A ``prior`` dataset is a Gaussian on quantities of the parameter dict alone, no distance
and no recombination physics (:data:`pbufjax.data.kinds.PRIOR_QUANTITIES`: ``H0``,
``omega_b``, ``omega_bc``, ``omega_m``, ``Neff``, ``n_s``; see
:func:`pbufjax.likelihood.blocks.parameter_value`):

.. math::

    \\chi^2 = (d - m)^T C^{-1} (d - m),\\qquad m = (q_1(\\theta), \\dots, q_n(\\theta)).

The built-in ones are the big-bang nucleosynthesis priors of Schöneberg 2024
(arXiv:2401.15054): ``bbn``, :math:`\\omega_b = 0.02218 \\pm 0.00055`, and ``bbn_neff``, a joint
Gaussian on :math:`(\\omega_b, N_{\\rm eff})`; and the SH0ES :math:`H_0 = 73.04 \\pm 1.04`
km/s/Mpc (Riess et al. 2022, arXiv:2112.04510), ``sh0es``. The CMB compressions
(``planck_pr4_compressed``, ``thetastar``) need :math:`\\theta_*` and are ``cmb`` datasets
(:class:`~pbufjax.likelihood.CMBBlock`).

Example:
    >>> from pbufjax.likelihood import build_likelihood
    >>> lik = build_likelihood("lcdm", ["desi_dr2", "bbn", "thetastar"], ["H0", "Om0", "Obh2"])  # doctest: +SKIP
"""

from __future__ import annotations

import jax.numpy as jnp

from ..data.kinds import PRIOR_QUANTITIES, PRIOR_TYPE
from .blocks import Block, parameter_value, register_block


class PriorBlock(Block):
    """A Gaussian prior on parameter quantities (dataset type ``prior``): no distance, no derived quantity.

    The dataset dict has ``observables``: one name of
    :data:`~pbufjax.data.kinds.PRIOR_QUANTITIES` per entry of ``observations``.

    Raises:
        ValueError: an unknown or repeated quantity, or as many names as values not given
            (the message lists the valid names).
    """

    dataset_type = PRIOR_TYPE
    fingerprint_attributes = ("observables",)

    def __init__(self, data, scale=1.0):
        super().__init__(data, scale)
        if "observables" not in data:
            raise ValueError(f"dataset {self.name!r}: a prior needs 'observables' (names from "
                             f"{', '.join(PRIOR_QUANTITIES)})")
        self.observables = tuple(data["observables"])
        bad = [o for o in self.observables if o not in PRIOR_QUANTITIES]
        if bad or len(self.observables) != self.n or len(set(self.observables)) != self.n:
            raise ValueError(f"dataset {self.name!r}: observables {list(self.observables)} must name each of its "
                             f"{self.n} values once, from {', '.join(PRIOR_QUANTITIES)} (unknown: {bad})")

    def predict(self, p, ctx):
        vals = {o: parameter_value(p, o) for o in self.observables}
        return jnp.stack([vals[o] for o in self.observables]), vals


register_block(PRIOR_TYPE, PriorBlock)

__all__ = ["PriorBlock"]
