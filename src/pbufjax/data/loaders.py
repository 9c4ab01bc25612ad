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
    return _load_planck("planck2018_priors_ns", CMB_OBSERVABLES[:4])


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


# --- DES-SN5YR and DES-Dovekie ---------------------------------------------

from .readers import read_des_covariance, read_desy5_hd, read_dovekie_hd, read_triu_npz
from .validation import DatasetValidationError, check_covariance

#: ``IDSURVEY`` of the DES supernovae in the DES Hubble diagrams; the other ids are the
#: low-redshift samples (5 CSP, 61-66 CfA1-CfA4, 150 Foundation).
DES_IDSURVEY = 10

_DES_REDSHIFTS = "zHD (CMB frame, peculiar-velocity corrected) for D_M, zHEL for the (1+z) factor"


def _resolve_checked(name: str, rel: str, data_dir, verify: bool) -> Path:
    p = _files.resolve(rel, data_dir, dataset=name)
    if verify:
        _files.verify(rel, p)
    return p


def _check_size(matrix: np.ndarray, n: int, matrix_path, table_path) -> None:
    if matrix.shape[0] != n:
        raise DataFormatError(f"{matrix_path}: matrix is {matrix.shape[0]}x{matrix.shape[0]} but {table_path} "
                              f"has {n} supernovae")


def covariance_from_precision(precision: np.ndarray, what: str = "inverse covariance") -> np.ndarray:
    """The covariance :math:`C = P^{-1} = L^{-T}L^{-1}` of a precision matrix :math:`P = LL^T` (host-side, once).

    Raises:
        DatasetValidationError: ``precision`` is not positive definite (``what`` names it).
    """
    p = np.asarray(precision, dtype=np.float64)
    try:
        chol = np.linalg.cholesky(p)
    except np.linalg.LinAlgError:
        w = np.linalg.eigvalsh(p)
        raise DatasetValidationError(
            f"{what} is not positive definite (smallest eigenvalue {w[0]:.3g}, largest {w[-1]:.3g})") from None
    linv = np.linalg.solve(chol, np.eye(p.shape[0]))
    cov = linv.T @ linv
    return 0.5 * (cov + cov.T)


def _des_dataset(name: str, t: dict, mu_err_column: str, cov, labels, files: dict, arrays=None, **extra) -> dict:
    """The dataset dict shared by the four DES loaders (``zHD`` as ``z_cmb``; ``arrays``: extra columns)."""
    z = t["zHD"]
    is_des = t["IDSURVEY"] == DES_IDSURVEY
    data = {
        "name": name,
        "observations": t["MU"],
        "covariance": cov,
        "z_cmb": z,
        "z_hel": t["zHEL"],
        "mu_err": t[mu_err_column],
        "idsurvey": t["IDSURVEY"].astype(np.int64),
        "labels": labels,
        "metadata": dataset_metadata(
            name, z.size, (z.min(), z.max()), files,
            offset="marginalized", selection="all rows (no redshift or PROBIA cut)",
            redshifts=_DES_REDSHIFTS, n_des=int(is_des.sum()), n_low_z=int((~is_des).sum()), **extra,
        ),
        **(arrays or {}),
    }
    return _read_only(data)


def _load_desy5(name: str, data_dir, verify: bool, covariance: bool = True) -> dict:
    hd_rel, cov_rel = get_dataset_spec(name).files()
    hd_path = _resolve_checked(name, hd_rel, data_dir, verify)
    t = read_desy5_hd(hd_path)
    n = t["MU"].size
    files = {hd_rel: str(hd_path)}
    cov = None
    if covariance:
        cov_path = _resolve_checked(name, cov_rel, data_dir, verify)
        part = read_des_covariance(cov_path)
        _check_size(part, n, cov_path, hd_path)
        cov = part + np.diag(t["MUERR_FINAL"] ** 2)
        check_covariance(cov, n, what=f"{cov_path} + diag(MUERR_FINAL**2) of {hd_path}")
        files[cov_rel] = str(cov_path)
    return _des_dataset(name, t, "MUERR_FINAL", cov, [str(c) for c in t["CID"]], files,
                        covariance_source=f"{Path(cov_rel).name} + diag(MUERR_FINAL**2)")


def load_desy5(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """DES-SN5YR supernovae with statistical and systematic uncertainties (DES Collaboration 2024, arXiv:2401.02929).

    1829 SNe Ia (1635 photometrically classified DES SNe, 194 low-redshift CSP, CfA and
    Foundation SNe), ``zHD`` = 0.025…1.12. Data vector ``MU`` (distance moduli for
    :math:`H_0 = 70`; the offset is marginalized), covariance

    .. math::

        C = C_{\\rm sys} + {\\rm diag}(\\sigma_{\\mu,\\rm FINAL}^2),

    with :math:`C_{\\rm sys}` = ``covsys_000.txt`` (the file of Cobaya's ``sn.desy5``; the release's
    own likelihood adds ``MUERR_FINAL**2`` to its ``STAT+SYS.txt.gz`` the same way) and
    :math:`\\sigma_{\\mu,\\rm FINAL}` = ``MUERR_FINAL`` (statistical, with the BEAMS core-collapse
    deweighting). The theory is
    :math:`\\mu = 5\\log_{10}[(1+z_{hel})D_M(z_{HD})/{\\rm Mpc}] + 25` (``z_cmb`` holds ``zHD``), as in
    the release's likelihood and Cobaya. No row is cut.

    Args:
        data_dir: data directory searched first.
        verify: check the registered hashes.
        covariance: read the (large, fetched) systematic covariance (``False``: ``covariance`` is
            None; for metadata only).

    Returns:
        the SN dataset dict (``observations`` = ``MU``, ``z_cmb`` = ``zHD``, ``z_hel``, ``labels``
        = ``CID``) with ``mu_err`` (``MUERR_FINAL``) and ``idsurvey``; ``metadata`` adds
        ``n_des``, ``n_low_z``, ``selection``, ``redshifts`` and ``covariance_source``.
    """
    return _load_desy5("desy5", data_dir, verify, covariance)


def load_desy5_stat(data_dir=None, *, verify: bool = True) -> dict:
    """DES-SN5YR with statistical uncertainties only (arXiv:2401.02929).

    :math:`C = C_{\\rm stat} + {\\rm diag}(\\sigma_{\\mu,\\rm FINAL}^2)`, with :math:`C_{\\rm stat}` =
    the release's ``STATONLY.txt.gz``, which is all zeros (the statistical errors are
    ``MUERR_FINAL``), so :math:`C` is diagonal. Same supernovae and conventions as
    :func:`load_desy5`.
    """
    return _load_desy5("desy5_stat", data_dir, verify)


def _load_dovekie(name: str, data_dir, verify: bool, covariance: bool = True) -> dict:
    hd_rel, inv_rel = get_dataset_spec(name).files()
    hd_path = _resolve_checked(name, hd_rel, data_dir, verify)
    t = read_dovekie_hd(hd_path)
    n = t["MU"].size
    if not np.array_equal(t["Index"], np.arange(n)):
        k = int(np.flatnonzero(t["Index"] != np.arange(n))[0])
        raise DataFormatError(f"{hd_path}: column Index must number the rows 0..{n - 1} in order (the order of "
                              f"the covariance); data row {k} has Index {t['Index'][k]:g}")
    files = {hd_rel: str(hd_path)}
    cov = None
    if covariance:
        inv_path = _resolve_checked(name, inv_rel, data_dir, verify)
        prec = read_triu_npz(inv_path)
        _check_size(prec, n, inv_path, hd_path)
        cov = covariance_from_precision(prec, what=f"{inv_path}: inverse covariance")
        check_covariance(cov, n, what=f"covariance from {inv_path}")
        files[inv_rel] = str(inv_path)
    return _des_dataset(name, t, "MUERR", cov, [str(int(i)) for i in t["Index"]], files,
                        arrays={"probia_beams": t["PROBIA_BEAMS"]},
                        covariance_source=f"inverse of {Path(inv_rel).name} (float32 upper triangle of C^-1)")


def load_des_dovekie(data_dir=None, *, verify: bool = True, covariance: bool = True) -> dict:
    """DES-Dovekie (DES-SN5YR recalibrated) with statistical and systematic uncertainties.

    Popovic et al. 2025, arXiv:2511.07517.

    1820 SNe Ia (1623 DES, 197 low-redshift), ``zHD`` = 0.025…1.14. Data vector ``MU``
    (offset marginalized); the release gives the INVERSE covariance
    :math:`C^{-1}` (``covtot_inv_000.npz`` = the release's ``STAT+SYS.npz``: float32 upper
    triangle, :func:`~pbufjax.data.readers.read_triu_npz`), inverted here once in float64
    (:func:`covariance_from_precision`), as the release's own likelihood does. Theory as
    :func:`load_desy5`. No row is cut: Cobaya's ``sn.desdovekie`` keeps ``zHD > 0.01`` (every
    row) and reads ``PROBIA_BEAMS`` without cutting on it, the release's likelihood keeps
    ``zHD > 0``; the core-collapse deweighting is in the uncertainties (``probia_beams`` is
    returned for reference).

    Args:
        data_dir: data directory searched first.
        verify: check the registered hashes.
        covariance: read the (large, fetched) inverse covariance (``False``: ``covariance`` is
            None; for metadata only).
    """
    return _load_dovekie("des_dovekie", data_dir, verify, covariance)


def load_des_dovekie_stat(data_dir=None, *, verify: bool = True) -> dict:
    """DES-Dovekie with statistical uncertainties only (arXiv:2511.07517).

    Covariance = inverse of ``STATONLY.npz`` (diagonal, :math:`1/\\sigma_\\mu^2` with
    :math:`\\sigma_\\mu` = ``MUERR`` to float32 precision). Same supernovae and conventions as
    :func:`load_des_dovekie`.
    """
    return _load_dovekie("des_dovekie_stat", data_dir, verify)


__all__ += [
    "DES_IDSURVEY",
    "covariance_from_precision",
    "load_des_dovekie",
    "load_des_dovekie_stat",
    "load_desy5",
    "load_desy5_stat",
]


# --- eBOSS DR16 and SDSS MGS -------------------------------------------------------------------

from .readers import read_value_column  # noqa: E402
from .validation import check_covariance as _check_covariance  # noqa: E402

#: eBOSS DR16 BAO release files, (mean file, covariance file) per tracer: LRG (0.6 < z < 1.0, z_eff = 0.698: eBOSS
#: LRGs with the BOSS DR12 CMASS galaxies at z > 0.6, arXiv:2007.08993) and QSO (0.8 < z < 2.2, z_eff = 1.48);
#: the SDSS BAO summary of Alam et al. 2021, arXiv:2007.08991. Values are :math:`D_M/r_d` and :math:`D_H/r_d`.
EBOSS_DR16_FILES: dict[str, tuple[str, str]] = {
    "LRG": ("bao/sdss/sdss_DR16_LRG_BAO_DMDH.dat", "bao/sdss/sdss_DR16_LRG_BAO_DMDH_covtot.txt"),
    "QSO": ("bao/sdss/sdss_DR16_QSO_BAO_DMDH.txt", "bao/sdss/sdss_DR16_QSO_BAO_DMDH_covtot.txt"),
}

#: BOSS DR12 consensus redshifts kept in the eBOSS DR16 combination (the z = 0.61 bin, 0.5 < z < 0.75, shares its
#: CMASS galaxies at z > 0.6 with the eBOSS LRG sample and is replaced by it; arXiv:2007.08991).
BOSS_DR12_KEPT_Z = (0.38, 0.51)

#: SDSS DR7 MGS (Ross et al. 2015, arXiv:1409.3242, abstract): :math:`D_V(z=0.15) = (664 \pm 25)\,
#: (r_d/r_{d,fid})` Mpc with :math:`r_{d,fid} = 148.69` Mpc; the Gaussian summary the dataset carries
#: next to the tabulated likelihood.
MGS_Z = 0.15
MGS_DV = 664.0
MGS_DV_ERR = 25.0
MGS_RD_FID = 148.69
#: :math:`D_V(0.15)` [Mpc] of the fiducial cosmology of the MGS table: the table's
#: :math:`\alpha = (D_V/r_d)/(D_{V,fid}/r_{d,fid})` (CosmoMC's and Cobaya's ``sdss_dr7_mgs``:
#: ``rs_rescale`` = 638.9518/148.69 = 4.29720761315).
MGS_DV_FID = 638.9518
#: The :math:`\alpha` grid of ``sdss_MGS_prob.txt`` (not in the file): 399 values, 0.8005 to 1.1985 in
#: steps of 0.001 (the ``prob_dist_bounds`` of CosmoMC and Cobaya).
MGS_ALPHA_RANGE = (0.8005, 1.1985)
MGS_N_ALPHA = 399


def _bao_pair(mean_path, cov_path) -> tuple:
    """``(z, values, quantities, covariance)`` of one BAO mean file and its covariance file, checked together."""
    z, vals, qs = read_bao_mean(mean_path)
    cov = read_matrix(cov_path)
    if cov.shape[0] != vals.size:
        raise DataFormatError(f"{cov_path}: covariance is {cov.shape[0]}x{cov.shape[1]} but {mean_path} has "
                              f"{vals.size} values")
    _check_covariance(cov, vals.size, what=f"{cov_path}: covariance")
    return z, vals, qs, cov


def load_eboss_dr16(data_dir=None, *, verify: bool = True) -> dict:
    """eBOSS DR16 BAO (Alam et al. 2021, arXiv:2007.08991): LRG and QSO :math:`D_M/r_d`, :math:`D_H/r_d`.

    Four values: :math:`D_M/r_d = 17.858`, :math:`D_H/r_d = 19.326` at :math:`z = 0.698` (LRG,
    Bautista et al. 2021 and Gil-Marín et al. 2020 combined) and :math:`D_M/r_d = 30.688`,
    :math:`D_H/r_d = 13.261` at :math:`z = 1.48` (QSO, Hou et al. 2021 and Neveux et al. 2020), with
    each tracer's 2x2 covariance; the tracers are independent samples, so the 4x4 covariance
    is block diagonal (as in Cobaya's ``sdss_dr16_lrg_bao_dmdh`` + ``sdss_dr16_qso_bao_dmdh``).

    Files: :data:`EBOSS_DR16_FILES` (CobayaSampler bao_data v2.6).

    Raises:
        DataFormatError: a malformed file, or a covariance whose size differs from its mean
            file's (naming the file). DatasetValidationError: a covariance that is not
            symmetric, finite and positive definite (naming the file).
    """
    name = "eboss_dr16"
    paths = _paths(name, data_dir, verify)
    parts = [_bao_pair(paths[m], paths[c]) for m, c in EBOSS_DR16_FILES.values()]
    z = np.concatenate([p[0] for p in parts])
    vals = np.concatenate([p[1] for p in parts])
    qs = tuple(q for p in parts for q in p[2])
    cov = np.zeros((vals.size, vals.size))
    i = 0
    for p in parts:
        k = p[1].size
        cov[i:i + k, i:i + k] = p[3]
        i += k
    data = {
        "name": name,
        "observations": vals,
        "covariance": cov,
        "redshifts": z,
        "quantities": qs,
        "rd_fid": np.full(vals.size, np.nan),
        "labels": [f"{q}(z={zz:g})" for q, zz in zip(qs, z)],
        "metadata": dataset_metadata(name, vals.size, (z.min(), z.max()), {k: str(v) for k, v in paths.items()},
                                     tracers=list(EBOSS_DR16_FILES)),
    }
    return _read_only(data)


def load_boss_dr12_2bins(data_dir=None, *, verify: bool = True) -> dict:
    """BOSS DR12 consensus BAO at :math:`z = 0.38, 0.51` only (Alam et al. 2017, arXiv:1607.03155).

    The four values of :func:`load_boss_dr12` at the two lower redshifts and their 4x4 block of
    the consensus covariance: the BOSS part of the eBOSS DR16 BAO combination, whose
    :math:`z = 0.61` bin is superseded by the eBOSS LRG measurement at :math:`z = 0.698`
    (Alam et al. 2021, arXiv:2007.08991). The same numbers as Cobaya's
    ``sdss_dr12_lrg_bao_dmdh``, there written as :math:`D_M/r_d`, :math:`D_H/r_d`.

    Raises:
        DataFormatError: the consensus file lacks one of the redshifts :data:`BOSS_DR12_KEPT_Z`.
    """
    name = "boss_dr12_2bins"
    qmap = {"DM_over_rs": "DM_rdfid_over_rs", "bao_Hz_rs": "H_rs_over_rdfid"}
    full = _load_bao(name, data_dir, verify, qmap, BOSS_DR12_RD_FID)
    z = np.asarray(full["redshifts"])
    keep = np.zeros(z.size, bool)
    for zk in BOSS_DR12_KEPT_Z:
        hit = np.isclose(z, zk, rtol=0.0, atol=1e-6)
        if not hit.any():
            raise DataFormatError(f"{full['metadata']['files']}: no BOSS DR12 values at z = {zk}; "
                                  f"expected redshifts {BOSS_DR12_KEPT_Z} and 0.61")
        keep |= hit
    idx = np.flatnonzero(keep)
    data = dict(full)
    for k in ("observations", "redshifts", "rd_fid"):
        data[k] = np.array(full[k])[idx]
    data["covariance"] = np.array(full["covariance"])[np.ix_(idx, idx)]
    data["quantities"] = tuple(full["quantities"][i] for i in idx)
    data["labels"] = [full["labels"][i] for i in idx]
    meta = dict(full["metadata"])
    meta.update(n_points=int(idx.size), redshift_range=[float(data["redshifts"].min()), float(data["redshifts"].max())],
                selection=f"z in {list(BOSS_DR12_KEPT_Z)} (z = 0.61 dropped: superseded by eBOSS DR16 LRG)")
    data["metadata"] = meta
    return _read_only(data)


def mgs_alpha_grid() -> np.ndarray:
    """The :math:`\\alpha` grid of the MGS table: ``linspace(0.8005, 1.1985, 399)``."""
    return np.linspace(MGS_ALPHA_RANGE[0], MGS_ALPHA_RANGE[1], MGS_N_ALPHA)


def load_sdss_mgs(data_dir=None, *, verify: bool = True) -> dict:
    """SDSS DR7 Main Galaxy Sample BAO (Ross et al. 2015, arXiv:1409.3242): a tabulated, non-Gaussian likelihood.

    The release gives :math:`\\chi^2` at 399 values of the BAO dilation

    .. math::

        \\alpha = \\frac{D_V(z=0.15)/r_d}{D_{V,fid}/r_{d,fid}},\\qquad
        D_{V,fid} = 638.9518\\ {\\rm Mpc},\\ r_{d,fid} = 148.69\\ {\\rm Mpc},

    on :math:`0.8005 \\le \\alpha \\le 1.1985` (step 0.001; the grid is not in the file).
    The likelihood block (:class:`~pbufjax.likelihood.tabulated.BAOTableBlock`) interpolates it
    with a cubic spline. ``observations``/``covariance`` hold the paper's Gaussian summary
    :math:`D_V/r_d = 664/148.69 = 4.4657 \\pm 0.1681` (used for plots, mocks and reports, not
    for the χ²).

    Keys besides the BAO ones: ``table_alpha`` (the grid), ``table_chi2`` (the values) and
    ``table_reference`` (:math:`D_{V,fid}/r_{d,fid}`, the value of :math:`D_V/r_d` at
    :math:`\\alpha = 1`).

    Files: ``bao/sdss/sdss_MGS_prob.txt`` (CobayaSampler bao_data v2.6).

    Raises:
        DataFormatError: a malformed file, or one without exactly 399 values.
    """
    name = "sdss_mgs"
    paths = _paths(name, data_dir, verify)
    (path,) = paths.values()
    chi2 = read_value_column(path)
    if chi2.size != MGS_N_ALPHA:
        raise DataFormatError(f"{path}: expected {MGS_N_ALPHA} chi2 values (alpha = {MGS_ALPHA_RANGE[0]} to "
                              f"{MGS_ALPHA_RANGE[1]} in steps of 0.001), got {chi2.size}; truncated or wrong file?")
    data = {
        "name": name,
        "observations": np.array([MGS_DV / MGS_RD_FID]),
        "covariance": np.array([[(MGS_DV_ERR / MGS_RD_FID) ** 2]]),
        "redshifts": np.array([MGS_Z]),
        "quantities": ("DV_over_rs",),
        "rd_fid": np.array([np.nan]),
        "table_alpha": mgs_alpha_grid(),
        "table_chi2": chi2,
        "table_reference": MGS_DV_FID / MGS_RD_FID,
        "labels": [f"DV_over_rs(z={MGS_Z:g})"],
        "metadata": dataset_metadata(name, 1, (MGS_Z, MGS_Z), {k: str(v) for k, v in paths.items()},
                                     rd_fid=MGS_RD_FID, dv_fid=MGS_DV_FID, alpha_range=list(MGS_ALPHA_RANGE),
                                     likelihood="tabulated chi2(alpha), cubic spline (not-a-knot); +inf outside "
                                     "the table"),
    }
    return _read_only(data)


__all__ += [
    "BOSS_DR12_KEPT_Z",
    "EBOSS_DR16_FILES",
    "MGS_ALPHA_RANGE",
    "MGS_DV",
    "MGS_DV_ERR",
    "MGS_DV_FID",
    "MGS_N_ALPHA",
    "MGS_RD_FID",
    "MGS_Z",
    "load_boss_dr12_2bins",
    "load_eboss_dr16",
    "load_sdss_mgs",
    "mgs_alpha_grid",
]
