"""The vocabulary of dataset kinds: types, BAO observables and CMB distance-prior observables.

Every dataset dict has a ``dataset_type`` (its *kind*) from :data:`DATASET_TYPES`; the
type-specific keys are described in :mod:`pbufjax.data`. A user-registered dataset may
declare another kind when it brings its own likelihood block.
"""

from __future__ import annotations

#: Dataset types understood by the likelihoods.
DATASET_TYPES = ("cmb", "bao", "bao_ani", "sn")

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

#: Names of the CMB distance-prior observables.
CMB_OBSERVABLES = ("R", "l_A", "omega_b", "n_s")


__all__ = ["BAO_QUANTITIES", "BAO_QUANTITIES_WITH_RDFID", "CMB_OBSERVABLES", "DATASET_TYPES"]
