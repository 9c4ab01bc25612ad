"""The vocabulary of dataset kinds: types, BAO observables and CMB distance-prior observables.

Every dataset dict has a ``dataset_type`` (its *kind*) from :data:`DATASET_TYPES`; the
type-specific keys are described in :mod:`pbufjax.data`. A user-registered dataset may
declare another kind when it brings its own likelihood block.
"""

from __future__ import annotations

#: Dataset types understood by the likelihoods. ``bao_tabulated``: one BAO quantity whose
#: likelihood is a tabulated, non-Gaussian :math:`\chi^2(\alpha)` (SDSS DR7 MGS, arXiv:1409.3242).
DATASET_TYPES = ("cmb", "bao", "bao_ani", "sn", "bao_tabulated")

#: Dataset types whose predictions use the sound horizon :math:`r_d` (and accept the ``hrd`` nuisance parameter).
BAO_TYPES = ("bao", "bao_ani", "bao_tabulated")

#: BAO observables understood by the generic BAO likelihood (name -> definition).
BAO_QUANTITIES: dict[str, str] = {
    "DV_over_rs": "D_V(z)/r_d",
    "DM_over_rs": "D_M(z)/r_d",
    "DH_over_rs": "D_H(z)/r_d = c/(H(z) r_d)",
    "DA_over_rs": "D_A(z)/r_d",
    "rs_over_DV": "r_d/D_V(z)",
    "DM_rdfid_over_rs": "D_M(z) r_d,fid/r_d [Mpc] (BOSS DR12 convention)",
    "H_rs_over_rdfid": "H(z) r_d/r_d,fid [km/s/Mpc] (BOSS DR12 convention)",
}
#: BAO quantities that need a fiducial sound horizon ``rd_fid``.
BAO_QUANTITIES_WITH_RDFID = ("DM_rdfid_over_rs", "H_rs_over_rdfid")

#: Names of the CMB distance-prior observables: the Planck 2018 distance priors (arXiv:1808.05724) use
#: ``R, l_A, omega_b[, n_s]``; DESI's compressed CMB likelihood (arXiv:2503.14738, Appendix A) uses
#: ``theta_star`` (:math:`r_s(z_*)/D_M(z_*)`, radians), ``omega_b`` and ``omega_bc``
#: (:math:`(\Omega_b+\Omega_c)h^2`, massive neutrinos excluded).
CMB_OBSERVABLES = ("R", "l_A", "omega_b", "n_s", "theta_star", "omega_bc")

#: Gaussian priors on parameters: the dataset type, and the quantities such a prior may constrain.
PRIOR_TYPE = "prior"
PRIOR_QUANTITIES: dict[str, str] = {
    "H0": "H_0 [km/s/Mpc] (parameter H0)",
    "omega_b": "Omega_b h^2 (parameter Obh2)",
    "omega_bc": "(Omega_b + Omega_c) h^2 = Omega_m h^2 - omega_nu (massive neutrinos excluded)",
    "omega_m": "Omega_m h^2 (massive neutrinos included)",
    "Neff": "effective number of relativistic species (parameter Neff)",
    "n_s": "scalar spectral index (parameter ns)",
}
DATASET_TYPES = DATASET_TYPES + (PRIOR_TYPE,)


__all__ = ["BAO_QUANTITIES", "BAO_QUANTITIES_WITH_RDFID", "BAO_TYPES", "CMB_OBSERVABLES", "DATASET_TYPES",
           "PRIOR_QUANTITIES", "PRIOR_TYPE"]
