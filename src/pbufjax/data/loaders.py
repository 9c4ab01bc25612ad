"""The built-in loaders: one ``load_<name>(data_dir=None, *, verify=True)`` per dataset.

Each returns the dataset dict of :mod:`pbufjax.data` with read-only arrays; the static
metadata (survey, citation, ...) comes from the dataset's :class:`~pbufjax.data.DatasetSpec`.
Release files are found by :func:`pbufjax.data.files.resolve` in ``data_dir``, then the
documented fallbacks, and checked against their published sha256 unless ``verify=False``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path

import numpy as np

from . import files as _files
from .kinds import BAO_QUANTITIES_WITH_RDFID, CMB_OBSERVABLES
from .readers import DataFormatError, read_bao_mean, read_flat_covariance, read_matrix, read_pantheonplus, read_union3
from .spec import get_dataset_spec

#: Fiducial sound horizon of the BOSS DR12 consensus measurements [Mpc] (arXiv:1607.03155, Sec. 2).
BOSS_DR12_RD_FID = 147.78

#: z_* of Planck 2018 TT,TE,EE+lowE (arXiv:1807.06209, Table 2): the redshift of the CMB priors.
PLANCK2018_Z_STAR = 1089.92



def planck2018_priors_table() -> dict:
    """The transcribed Planck 2018 distance-prior table (``pbufjax.tables/planck2018_priors.json``)."""
    return json.loads(resources.files("pbufjax.tables").joinpath("planck2018_priors.json").read_text(encoding="utf-8"))


def dataset_metadata(name: str, n: int, zrange, files: Mapping[str, str] | None = None, **extra) -> dict:
    """A loaded dataset's ``metadata``: the spec's static facts plus the loaded counts, range and files."""
    spec = get_dataset_spec(name)
    meta = {
        "name": name,
        "n_points": int(n),
        "redshift_range": [float(zrange[0]), float(zrange[1])],
        "survey": spec.metadata.get("survey"),
        "citation": spec.metadata.get("citation"),
        "arxiv": spec.metadata.get("arxiv"),
        "dataset_type": spec.kind,
        "description": spec.metadata.get("description"),
        "files": dict(files or {}),
    }
    meta.update(extra)
    return meta


def _paths(name: str, data_dir, verify: bool) -> dict[str, Path]:
    out = {}
    for rel in get_dataset_spec(name).files():
        p = _files.resolve(rel, data_dir, dataset=name)
        if verify:
            _files.verify(rel, p)
        out[rel] = p
    return out


def _read_only(d: dict) -> dict:
    """Mark the dataset's top-level arrays read-only (cached copies share them)."""
    for v in d.values():
        if isinstance(v, np.ndarray):
            v.setflags(write=False)
    return d


# --- CMB ------------------------------------------------------------------


def _load_planck(name: str, observables: Sequence[str]) -> dict:
    table = planck2018_priors_table()
    order = table["observables"]
    idx = [order.index(o) for o in observables]
    mean = np.array(table["mean"], dtype=np.float64)[idx]
    sig = np.array(table["sigma"], dtype=np.float64)[idx]
    corr = np.array(table["correlation"], dtype=np.float64)[np.ix_(idx, idx)]
    cov = corr * np.outer(sig, sig)
    meta = dataset_metadata(
        name,
        len(idx),
        (PLANCK2018_Z_STAR, PLANCK2018_Z_STAR),
        files={"planck2018_priors.json": "pbufjax.tables/planck2018_priors.json"},
        sigma=sig.tolist(),
        correlation=corr.tolist(),
        notes=table["sigma_note"],
    )
    return _read_only(
        {
            "name": name,
            "observations": mean,
            "covariance": cov,
            "labels": list(observables),
            "observables": tuple(observables),
            "metadata": meta,
        }
    )


def load_planck2018_priors(data_dir=None, *, verify: bool = True) -> dict:
    """Planck 2018 distance priors :math:`(R, \\ell_A, \\omega_b)` (embedded, arXiv:1808.05724 Table I).

    .. math::

        R = \\sqrt{\\Omega_m H_0^2}\\,D_M(z_*)/c = 1.7502 \\pm 0.0046,\\quad
        \\ell_A = \\pi D_M(z_*)/r_s(z_*) = 301.471 \\pm 0.0895,\\quad
        \\omega_b = 0.02236 \\pm 0.00015,

    correlations :math:`\\rho_{R\\ell_A}=0.46`, :math:`\\rho_{R\\omega_b}=-0.66`,
    :math:`\\rho_{\\ell_A\\omega_b}=-0.33`. ``data_dir`` and ``verify`` are unused (no release files).
    """
    return _load_planck("planck2018_priors", CMB_OBSERVABLES[:3])


def load_planck2018_priors_ns(data_dir=None, *, verify: bool = True) -> dict:
    """Planck 2018 distance priors with :math:`n_s = 0.9649 \\pm 0.0043` (arXiv:1808.05724 Table I).

    Correlations of :math:`n_s` with :math:`R, \\ell_A, \\omega_b`: -0.74, -0.35, 0.46.
    """
    return _load_planck("planck2018_priors_ns", CMB_OBSERVABLES)


# --- BAO ------------------------------------------------------------------


def _load_bao(name: str, data_dir, verify: bool, quantity_map=None, rd_fid: float | None = None) -> dict:
    paths = _paths(name, data_dir, verify)
    mean_path, cov_path = list(paths.values())
    z, vals, qs = read_bao_mean(mean_path, quantity_map)
    cov = read_matrix(cov_path)
    rdfid = np.array([rd_fid if (q in BAO_QUANTITIES_WITH_RDFID and rd_fid) else np.nan for q in qs])
    extra = {"rd_fid": rd_fid} if rd_fid else {}
    data = {
        "name": name,
        "observations": vals,
        "covariance": cov,
        "redshifts": z,
        "quantities": qs,
        "rd_fid": rdfid,
        "labels": [f"{q}(z={zz:g})" for q, zz in zip(qs, z)],
        "metadata": dataset_metadata(name, len(vals), (z.min(), z.max()), {k: str(v) for k, v in paths.items()}, **extra),
    }
    return _read_only(data)


def load_desi_dr2(data_dir=None, *, verify: bool = True) -> dict:
    """DESI DR2 BAO (arXiv:2503.14738): 13 values of :math:`D_V/r_d, D_M/r_d, D_H/r_d` and their covariance.

    Files: ``bao/desi_dr2/desi_gaussian_bao_ALL_GCcomb_{mean,cov}.txt`` (CobayaSampler bao_data v2.6).
    """
    return _load_bao("desi_dr2", data_dir, verify)


def load_desi_dr1(data_dir=None, *, verify: bool = True) -> dict:
    """DESI DR1 BAO (arXiv:2404.03000, 2404.03002): 12 values and their covariance.

    Files: ``bao/desi_dr1/desi_2024_gaussian_bao_ALL_GCcomb_{mean,cov}.txt`` (bao_data v2.6).
    """
    return _load_bao("desi_dr1", data_dir, verify)


def load_boss_dr12(data_dir=None, *, verify: bool = True) -> dict:
    """BOSS DR12 consensus BAO (Alam et al. 2017, arXiv:1607.03155).

    Six values at :math:`z = 0.38, 0.51, 0.61`: :math:`D_M(z)\\,r_{d,fid}/r_d` [Mpc] and
    :math:`H(z)\\,r_d/r_{d,fid}` [km/s/Mpc] with :math:`r_{d,fid} = 147.78` Mpc, and the 6x6
    covariance. The file's names ``DM_over_rs`` and ``bao_Hz_rs`` are read as
    ``DM_rdfid_over_rs`` and ``H_rs_over_rdfid``.

    Files: ``bao/sdss/sdss_DR12Consensus_bao.dat``, ``bao/sdss/BAO_consensus_covtot_dM_Hz.txt``.
    """
    qmap = {"DM_over_rs": "DM_rdfid_over_rs", "bao_Hz_rs": "H_rs_over_rdfid"}
    return _load_bao("boss_dr12", data_dir, verify, qmap, BOSS_DR12_RD_FID)


# --- SN -------------------------------------------------------------------


def load_union3(data_dir=None, *, verify: bool = True) -> dict:
    """Union3/UNITY1.5 compressed supernova distances (Rubin et al. 2023, arXiv:2311.12098).

    22 spline nodes, ``mb`` = distance modulus up to an arbitrary offset (marginalized by
    the likelihood), and their 22x22 covariance (the file's per-node ``dmb`` are zero:
    the covariance holds all uncertainties).

    Files: ``sn/union3/lcparam_full.txt``, ``sn/union3/mag_covmat.txt`` (CobayaSampler sn_data v1.8).
    """
    name = "union3"
    paths = _paths(name, data_dir, verify)
    lc_path, cov_path = list(paths.values())
    t = read_union3(lc_path)
    cov = read_flat_covariance(cov_path)
    cov = cov + np.diag(t["dmb"] ** 2)
    data = {
        "name": name,
        "observations": t["mb"],
        "covariance": cov,
        "z_cmb": t["zcmb"],
        "z_hel": t["zhel"],
        "labels": [str(s) for s in t["name"]],
        "metadata": dataset_metadata(
            name, len(t["mb"]), (t["zcmb"].min(), t["zcmb"].max()), {k: str(v) for k, v in paths.items()},
            offset="marginalized",
        ),
    }
    return _read_only(data)


def _load_pantheon(name: str, data_dir, verify: bool, shoes: bool, covariance: bool = True) -> dict:
    dat_rel, cov_rel = get_dataset_spec(name).files()
    dat_path = _files.resolve(dat_rel, data_dir, dataset=name)
    if verify:
        _files.verify(dat_rel, dat_path)
    t = read_pantheonplus(dat_path)
    ntot = t["zHD"].size
    is_cal = t["IS_CALIBRATOR"] > 0.5
    mask = (t["zHD"] > 0.01) | is_cal if shoes else t["zHD"] > 0.01
    files = {dat_rel: str(dat_path)}
    if covariance:
        cov_path = _files.resolve(cov_rel, data_dir, dataset=name)
        if verify:
            _files.verify(cov_rel, cov_path)
        full = read_flat_covariance(cov_path)
        if full.shape[0] != ntot:
            raise DataFormatError(f"{cov_path}: covariance is {full.shape[0]}x{full.shape[0]} but {dat_path} has {ntot} rows")
        cov = full[np.ix_(mask, mask)]
        files[cov_rel] = str(cov_path)
    else:
        cov = None
    z = t["zHD"][mask]
    data = {
        "name": name,
        "observations": t["m_b_corr"][mask],
        "covariance": cov,
        "z_cmb": z,
        "z_hel": t["zHEL"][mask],
        "labels": [str(s) for s in t["CID"][mask]],
        "metadata": dataset_metadata(
            name, int(mask.sum()), (z.min(), z.max()), files,
            selection="zHD > 0.01 or IS_CALIBRATOR" if shoes else "zHD > 0.01",
            n_rows_in_file=int(ntot),
            offset="free absolute magnitude M_B (or marginalized)" if shoes else "marginalized",
        ),
    }
    if shoes:
        data["is_calibrator"] = is_cal[mask]
        data["ceph_dist"] = t["CEPH_DIST"][mask]
        data["metadata"]["n_calibrators"] = int(is_cal[mask].sum())
    return _read_only(data)


def load_pantheonplus(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """Pantheon+ supernovae (Scolnic et al. 2022, arXiv:2112.03863; Brout et al. 2022, arXiv:2202.04077).

    Rows of ``Pantheon+SH0ES.dat`` with ``zHD > 0.01`` (1590 of 1701): data vector
    ``m_b_corr``, redshifts ``zHD`` (as :math:`z_{cmb}`, peculiar-velocity corrected) and
    ``zHEL``; covariance = the same rows and columns of ``Pantheon+SH0ES_STAT+SYS.cov``.

    Args:
        data_dir: data directory searched first.
        verify: check the registered sha256.
        covariance: read the covariance (``False``: ``covariance`` is None; for metadata only).
    """
    return _load_pantheon("pantheonplus", data_dir, verify, shoes=False, covariance=covariance)


def load_pantheonplus_shoes(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """Pantheon+ with the SH0ES Cepheid-host calibrators (Riess et al. 2022, arXiv:2112.04510; Brout et al. 2022).

    Rows with ``zHD > 0.01`` or ``IS_CALIBRATOR`` (1657). For calibrators the theory distance
    modulus is the Cepheid distance ``CEPH_DIST``, which breaks the :math:`M_B`-:math:`H_0`
    degeneracy.
    """
    return _load_pantheon("pantheonplus_shoes", data_dir, verify, shoes=True, covariance=covariance)


__all__ = [
    "BOSS_DR12_RD_FID",
    "PLANCK2018_Z_STAR",
    "dataset_metadata",
    "load_boss_dr12",
    "load_desi_dr1",
    "load_desi_dr2",
    "load_pantheonplus",
    "load_pantheonplus_shoes",
    "load_planck2018_priors",
    "load_planck2018_priors_ns",
    "load_union3",
    "planck2018_priors_table",
]
