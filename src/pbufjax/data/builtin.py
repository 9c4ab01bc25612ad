"""The built-in datasets: one :class:`~pbufjax.data.DatasetSpec` each, registered on import.

Registering reads no file: release files and their sha256 are looked up in
``release_files.json`` on first use. The published counts and redshift ranges in
``metadata`` are what :func:`pbufjax.data.get_dataset_info` reports while a release file
is missing; ``tests/test_dataset_registry.py`` checks them against the loaded data.
"""

from __future__ import annotations

import functools

from . import loaders as L
from . import prior_tables as P
from .spec import DatasetSpec, NuisanceParameter, register_combination, register_dataset

_PLANCK = {
    "survey": "Planck 2018 (TT,TE,EE+lowE) distance priors",
    "citation": "Chen, Huang & Wang 2019, JCAP 02 (2019) 028, Table I",
    "arxiv": "1808.05724",
    "redshift_range": [L.PLANCK2018_Z_STAR, L.PLANCK2018_Z_STAR],
}
_DESI_BOSS = "DESI and BOSS DR12 overlap in sky area and redshift (0.4 < z < 0.6 LRGs)"
_UNION_PANTHEON = "Union3 and Pantheon+ share most low- and mid-redshift supernovae"
_PLANCK_CMB = "both compress the Planck temperature and polarization spectra (PR4 reprocesses the 2018 maps)"
_PLANCK_THETA = "l_A = pi / theta_* holds the same Planck acoustic angle"

#: SN Ia absolute magnitude of the SH0ES-calibrated Pantheon+ likelihood (Brout et al. 2022, arXiv:2202.04077);
#: default from Riess et al. 2022 (arXiv:2112.04510).
M_B = NuisanceParameter("M_B", -19.253, (-21.0, -17.5),
                        "SN Ia absolute magnitude (Pantheon+ with SH0ES calibrators); default Riess et al. 2022, "
                        "arXiv:2112.04510")

#: h r_d [Mpc], the calibration-free BAO parameter of every BAO dataset: free or set, the BAO predictions use
#: r_d = hrd / h instead of the computed sound horizon, so no early-universe physics enters (DESI DR2,
#: arXiv:2503.14738); default h r_d of Planck 2018 TT,TE,EE+lowE+lensing (H0 = 67.36, r_d = 147.09 Mpc;
#: arXiv:1807.06209, Table 2).
HRD = NuisanceParameter("hrd", 99.08, (60.0, 150.0),
                        "h r_d [Mpc]: free or set, BAO use r_d = hrd/h instead of the computed sound horizon "
                        "(calibration-free BAO, arXiv:2503.14738); default Planck 2018, arXiv:1807.06209")

BUILTIN_DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "planck2018_priors", "cmb", L.load_planck2018_priors, aliases=("cmb",), release_files=(),
        metadata={**_PLANCK, "n_points": 3, "description": "CMB distance priors R, l_A, omega_b (flat LCDM), "
                  "Gaussian with published correlations"},
        overlaps={"planck2018_priors_ns": "the same Planck 2018 distance priors"}, cacheable=True,
    ),
    DatasetSpec(
        "planck2018_priors_ns", "cmb", L.load_planck2018_priors_ns, release_files=(),
        metadata={**_PLANCK, "n_points": 4, "description": "CMB distance priors R, l_A, omega_b, n_s (flat LCDM), "
                  "Gaussian with published correlations"},
        cacheable=True,
    ),
    DatasetSpec(
        "desi_dr2", "bao", L.load_desi_dr2, aliases=("bao",),
        metadata={"survey": "DESI DR2", "arxiv": "2503.14738",
                  "citation": "DESI Collaboration 2025, DESI DR2 Results II: BAO and cosmological constraints",
                  "description": "13 BAO values: BGS D_V/r_d at z=0.295; D_M/r_d and D_H/r_d at z=0.51..2.33; "
                  "full covariance", "n_points": 13, "redshift_range": [0.295, 2.33]},
        overlaps={"boss_dr12": _DESI_BOSS}, nuisance=(HRD,), cacheable=True,
    ),
    DatasetSpec(
        "desi_dr1", "bao", L.load_desi_dr1,
        metadata={"survey": "DESI DR1", "arxiv": "2404.03000, 2404.03002",
                  "citation": "DESI Collaboration 2024, DESI 2024 III and VI: BAO from galaxies, quasars and "
                  "Lyman-alpha",
                  "description": "12 BAO values: D_V/r_d at z=0.295 and 1.491; D_M/r_d and D_H/r_d at z=0.51..2.33",
                  "n_points": 12, "redshift_range": [0.295, 2.33]},
        overlaps={"desi_dr2": "DESI DR2 contains the DR1 galaxies and quasars", "boss_dr12": _DESI_BOSS},
        nuisance=(HRD,), cacheable=True,
    ),
    DatasetSpec(
        "boss_dr12", "bao_ani", L.load_boss_dr12, aliases=("bao_ani",),
        metadata={"survey": "SDSS-III BOSS DR12 consensus", "citation": "Alam et al. 2017, MNRAS 470, 2617",
                  "arxiv": "1607.03155", "n_points": 6, "redshift_range": [0.38, 0.61],
                  "description": "D_M r_d,fid/r_d [Mpc] and H r_d/r_d,fid [km/s/Mpc] at z=0.38, 0.51, 0.61 "
                  "(r_d,fid = 147.78 Mpc)"},
        nuisance=(HRD,), cacheable=True,
    ),
    DatasetSpec(
        "union3", "sn", L.load_union3, aliases=("sn",),
        metadata={"survey": "Union3/UNITY1.5", "citation": "Rubin et al. 2023, Union Through UNITY",
                  "arxiv": "2311.12098", "n_points": 22, "redshift_range": [0.05, 2.26226],
                  "description": "22 spline nodes of the distance modulus (arbitrary offset), z=0.05..2.26, "
                  "22x22 covariance"},
        overlaps={"pantheonplus": _UNION_PANTHEON, "pantheonplus_shoes": _UNION_PANTHEON}, cacheable=True,
    ),
    DatasetSpec(
        "pantheonplus", "sn", L.load_pantheonplus,
        metadata={"survey": "Pantheon+", "citation": "Scolnic et al. 2022, ApJ 938, 113; Brout et al. 2022, ApJ 938, 110",
                  "arxiv": "2112.03863, 2202.04077", "n_points": 1590, "redshift_range": [0.01016, 2.26137],
                  "description": "Pantheon+ light curves with zHD > 0.01 (1590), m_b_corr with the full STAT+SYS "
                  "covariance"},
        overlaps={"pantheonplus_shoes": "the same Pantheon+ supernovae"},
        info_loader=functools.partial(L.load_pantheonplus, covariance=False), cacheable=True,
    ),
    DatasetSpec(
        "pantheonplus_shoes", "sn", L.load_pantheonplus_shoes, nuisance=(M_B,),
        metadata={"survey": "Pantheon+ & SH0ES", "arxiv": "2202.04077, 2112.04510",
                  "citation": "Brout et al. 2022, ApJ 938, 110; Riess et al. 2022, ApJL 934, L7",
                  "n_points": 1657, "redshift_range": [0.00122, 2.26137],
                  "description": "Pantheon+ (zHD > 0.01) plus the 77 SH0ES Cepheid-host calibrators "
                  "(theory = CEPH_DIST); constrains H0"},
        info_loader=functools.partial(L.load_pantheonplus_shoes, covariance=False), cacheable=True,
    ),
    # DES
    # DES-SN5YR and DES-Dovekie are the same DES supernovae (Dovekie recalibrates them); all four share
    # their low-redshift CfA/CSP/Foundation supernovae, and the DES 3-year spectroscopic ones, with
    # Pantheon+ and Union3.
    DatasetSpec(
        "desy5", "sn", L.load_desy5,
        metadata={"survey": "DES-SN5YR", "citation": "DES Collaboration 2024, ApJL 973, L14", "arxiv": "2401.02929",
                  "n_points": 1829, "redshift_range": [0.02509, 1.12132],
                  "description": "DES 5-year Hubble diagram: 1635 DES + 194 low-z SNe Ia, MU with the systematic "
                  "covariance + diag(MUERR_FINAL^2); offset marginalized"},
        overlaps={"desy5_stat": "the same DES-SN5YR supernovae and distances",
                  **{d: "DES-Dovekie recalibrates the same DES-SN5YR supernovae" for d in ("des_dovekie",
                                                                                            "des_dovekie_stat")},
                  **{d: "they share low-redshift (CfA, CSP, Foundation) and DES 3-year supernovae"
                     for d in ("pantheonplus", "pantheonplus_shoes", "union3")}},
        info_loader=functools.partial(L.load_desy5, covariance=False), cacheable=True,
    ),
    DatasetSpec(
        "desy5_stat", "sn", L.load_desy5_stat,
        metadata={"survey": "DES-SN5YR (statistical uncertainties only)",
                  "citation": "DES Collaboration 2024, ApJL 973, L14", "arxiv": "2401.02929",
                  "n_points": 1829, "redshift_range": [0.02509, 1.12132],
                  "description": "DES-SN5YR MU with the statistical covariance only: STATONLY (zeros) + "
                  "diag(MUERR_FINAL^2); offset marginalized"},
        overlaps={**{d: "DES-Dovekie recalibrates the same DES-SN5YR supernovae" for d in ("des_dovekie",
                                                                                         "des_dovekie_stat")},
                  **{d: "they share low-redshift (CfA, CSP, Foundation) and DES 3-year supernovae"
                     for d in ("pantheonplus", "pantheonplus_shoes", "union3")}},
        cacheable=True,
    ),
    DatasetSpec(
        "des_dovekie", "sn", L.load_des_dovekie,
        metadata={"survey": "DES-Dovekie (DES-SN5YR recalibrated)", "arxiv": "2511.07517",
                  "citation": "Popovic et al. 2025, DES Supernova Program: a reanalysis of cosmology results "
                  "with an updated SN Ia calibration (DES-Dovekie)",
                  "n_points": 1820, "redshift_range": [0.02509, 1.14418],
                  "description": "DES-Dovekie Hubble diagram: 1623 DES + 197 low-z SNe Ia, MU with the total "
                  "covariance (the inverse of the released inverse covariance); offset marginalized"},
        overlaps={"des_dovekie_stat": "the same DES-Dovekie supernovae and distances",
                  **{d: "they share low-redshift (CfA, CSP, Foundation) and DES 3-year supernovae"
                     for d in ("pantheonplus", "pantheonplus_shoes", "union3")}},
        info_loader=functools.partial(L.load_des_dovekie, covariance=False), cacheable=True,
    ),
    DatasetSpec(
        "des_dovekie_stat", "sn", L.load_des_dovekie_stat,
        metadata={"survey": "DES-Dovekie (statistical uncertainties only)", "arxiv": "2511.07517",
                  "citation": "Popovic et al. 2025, DES Supernova Program: a reanalysis of cosmology results "
                  "with an updated SN Ia calibration (DES-Dovekie)",
                  "n_points": 1820, "redshift_range": [0.02509, 1.14418],
                  "description": "DES-Dovekie MU with the statistical covariance only (inverse of STATONLY.npz, "
                  "diagonal 1/MUERR^2); offset marginalized"},
        overlaps={d: "they share low-redshift (CfA, CSP, Foundation) and DES 3-year supernovae"
                  for d in ("pantheonplus", "pantheonplus_shoes", "union3")},
        cacheable=True,
    ),
    # SDSS
    # eBOSS DR16 and the two lower BOSS DR12 bins are the SDSS BAO of Alam et al. 2021 (arXiv:2007.08991); the
    # combination sdss_legacy (below) joins them with SDSS DR7 MGS. DESI observes the same kinds of galaxies and
    # quasars over part of the SDSS sky and redshifts, so DESI and SDSS BAO are not independent.
    DatasetSpec(
        "eboss_dr16", "bao", L.load_eboss_dr16,
        metadata={"survey": "SDSS-IV eBOSS DR16 (LRG and QSO)", "arxiv": "2007.08991",
                  "citation": "Alam et al. 2021, PRD 103, 083533 (eBOSS DR16 cosmological implications)",
                  "description": "4 BAO values: D_M/r_d and D_H/r_d of the LRGs at z=0.698 (with the BOSS galaxies "
                  "at z > 0.6) and of the quasars at z=1.48; block-diagonal covariance",
                  "n_points": 4, "redshift_range": [0.698, 1.48]},
        overlaps={"boss_dr12": "the eBOSS LRG sample includes the BOSS DR12 galaxies at z > 0.6 of the "
                  "consensus z=0.61 bin",
                  **{d: "DESI LRGs and quasars overlap the eBOSS ones in sky area and redshift"
                     for d in ("desi_dr2", "desi_dr1")}},
        nuisance=(HRD,), cacheable=True,
    ),
    DatasetSpec(
        "boss_dr12_2bins", "bao_ani", L.load_boss_dr12_2bins,
        release_files=("bao/sdss/sdss_DR12Consensus_bao.dat", "bao/sdss/BAO_consensus_covtot_dM_Hz.txt"),
        metadata={"survey": "SDSS-III BOSS DR12 consensus, z=0.38 and 0.51", "arxiv": "1607.03155",
                  "citation": "Alam et al. 2017, MNRAS 470, 2617",
                  "description": "the BOSS DR12 consensus values at z=0.38, 0.51 (4 of 6): D_M r_d,fid/r_d [Mpc] "
                  "and H r_d/r_d,fid [km/s/Mpc]; z=0.61 dropped (superseded by eBOSS DR16 LRG)",
                  "n_points": 4, "redshift_range": [0.38, 0.51]},
        overlaps={"boss_dr12": "the same BOSS DR12 measurements at z=0.38 and 0.51",
                  **{d: _DESI_BOSS for d in ("desi_dr2", "desi_dr1")}},
        nuisance=(HRD,), cacheable=True,
    ),
    DatasetSpec(
        "sdss_mgs", "bao_tabulated", L.load_sdss_mgs,
        metadata={"survey": "SDSS DR7 Main Galaxy Sample", "arxiv": "1409.3242",
                  "citation": "Ross et al. 2015, MNRAS 449, 835",
                  "description": "D_V/r_d at z=0.15 (664 +- 25 Mpc x r_d/r_d,fid, r_d,fid = 148.69 Mpc): tabulated "
                  "non-Gaussian chi2(alpha), alpha=0.8005..1.1985, cubic spline",
                  "n_points": 1, "redshift_range": [0.15, 0.15]},
        overlaps={d: "DESI BGS galaxies (0.1 < z < 0.4) overlap the MGS ones in sky area and redshift"
                  for d in ("desi_dr2", "desi_dr1")},
        nuisance=(HRD,), cacheable=True,
    ),
    # priors: Gaussians transcribed from papers (pbufjax.tables/<name>.json), no release file
    DatasetSpec(
        "planck_pr4_compressed", "cmb", P.load_planck_pr4_compressed, release_files=(),
        metadata={"survey": "Planck PR4 (CamSpec TT,TE,EE + lowE + lensing) compressed by DESI DR2",
                  "citation": "DESI Collaboration 2025, DESI DR2 Results II, Appendix A, Eqs. (35)-(36)",
                  "arxiv": "2503.14738", "n_points": 3,
                  "redshift_range": [L.PLANCK2018_Z_STAR, L.PLANCK2018_Z_STAR],
                  "description": "Gaussian on (theta_*, omega_b, omega_bc): theta_* = r_s(z_*)/D_M(z_*) in radians, "
                  "omega_bc = (Omega_b + Omega_c) h^2 without the massive neutrinos"},
        overlaps={"planck2018_priors": _PLANCK_CMB, "planck2018_priors_ns": _PLANCK_CMB,
                  "thetastar": "both hold the Planck acoustic angle theta_*"},
        cacheable=True,
    ),
    DatasetSpec(
        "thetastar", "cmb", P.load_thetastar, release_files=(),
        metadata={"survey": "Planck 2018 acoustic angle, as used by DESI", "arxiv": "2503.14738",
                  "citation": "DESI Collaboration 2025, DESI DR2 Results II: the theta_* prior of DESI+BBN+theta_*",
                  "n_points": 1, "redshift_range": [L.PLANCK2018_Z_STAR, L.PLANCK2018_Z_STAR],
                  "description": "100 theta_* = 1.04110 +/- 0.00053 (stored as theta_* = r_s(z_*)/D_M(z_*), "
                  "radians)"},
        overlaps={"planck2018_priors": _PLANCK_THETA, "planck2018_priors_ns": _PLANCK_THETA}, cacheable=True,
    ),
    DatasetSpec(
        "bbn", "prior", P.load_bbn, release_files=(),
        metadata={"survey": "Big-bang nucleosynthesis (PDG D/H and Y_p, PRyMordial)", "arxiv": "2401.15054",
                  "citation": "Schoeneberg 2024, The 2024 BBN baryon abundance update (LCDM)", "n_points": 1,
                  "description": "omega_b = 0.02218 +/- 0.00055 (LCDM); the BBN prior of DESI DR2"},
        overlaps={"bbn_neff": "the same nucleosynthesis analysis"}, cacheable=True,
    ),
    DatasetSpec(
        "bbn_neff", "prior", P.load_bbn_neff, release_files=(),
        metadata={"survey": "Big-bang nucleosynthesis (PDG D/H and Y_p, PRyMordial)", "arxiv": "2401.15054",
                  "citation": "Schoeneberg 2024, The 2024 BBN baryon abundance update (LCDM + N_eff)",
                  "n_points": 2, "description": "joint Gaussian: omega_b = 0.02196 +/- 0.00063, "
                  "N_eff = 2.904 +/- 0.213, correlation 0.54 (LCDM + N_eff)"},
        cacheable=True,
    ),
    DatasetSpec(
        "sh0es", "prior", P.load_sh0es, release_files=(),
        metadata={"survey": "SH0ES (HST Cepheids and SNe Ia)", "arxiv": "2112.04510",
                  "citation": "Riess et al. 2022, ApJL 934, L7", "n_points": 1,
                  "description": "H0 = 73.04 +/- 1.04 km/s/Mpc (distance ladder, baseline)"},
        overlaps={"pantheonplus_shoes": "the same SH0ES Cepheid calibration of the SNe Ia"}, cacheable=True,
    ),
)

for _spec in BUILTIN_DATASETS:
    register_dataset(_spec, overwrite=True)

#: The SDSS BAO of the eBOSS DR16 cosmology paper (Alam et al. 2021, arXiv:2007.08991): MGS, BOSS DR12 at
#: z = 0.38, 0.51 and eBOSS DR16 LRG and QSO; the BOSS DR12 z = 0.61 bin is dropped, superseded by the eBOSS LRGs
#: (the eBOSS ELG and Lyman-alpha measurements are not included: their release files are not registered).
SDSS_LEGACY = register_combination(
    "sdss_legacy", ("sdss_mgs", "boss_dr12_2bins", "eboss_dr16"),
    "SDSS BAO: MGS + BOSS DR12 (z=0.38, 0.51) + eBOSS DR16 LRG and QSO; BOSS z=0.61 dropped (in eBOSS LRG)",
    "Alam et al. 2021, arXiv:2007.08991", overwrite=True)

__all__ = ["BUILTIN_DATASETS", "HRD", "M_B", "SDSS_LEGACY"]
