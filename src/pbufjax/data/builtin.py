"""The built-in datasets: one :class:`~pbufjax.data.DatasetSpec` each, registered on import.

Registering reads no file: release files and their sha256 are looked up in
``release_files.json`` on first use. The published counts and redshift ranges in
``metadata`` are what :func:`pbufjax.data.get_dataset_info` reports while a release file
is missing; ``tests/test_dataset_registry.py`` checks them against the loaded data.
"""

from __future__ import annotations

import functools

from . import loaders as L
from .spec import DatasetSpec, NuisanceParameter, register_dataset

_PLANCK = {
    "survey": "Planck 2018 (TT,TE,EE+lowE) distance priors",
    "citation": "Chen, Huang & Wang 2019, JCAP 02 (2019) 028, Table I",
    "arxiv": "1808.05724",
    "redshift_range": [L.PLANCK2018_Z_STAR, L.PLANCK2018_Z_STAR],
}
_DESI_BOSS = "DESI and BOSS DR12 overlap in sky area and redshift (0.4 < z < 0.6 LRGs)"
_UNION_PANTHEON = "Union3 and Pantheon+ share most low- and mid-redshift supernovae"

#: SN Ia absolute magnitude of the SH0ES-calibrated Pantheon+ likelihood (Brout et al. 2022, arXiv:2202.04077);
#: default from Riess et al. 2022 (arXiv:2112.04510).
M_B = NuisanceParameter("M_B", -19.253, (-21.0, -17.5),
                        "SN Ia absolute magnitude (Pantheon+ with SH0ES calibrators); default Riess et al. 2022, "
                        "arXiv:2112.04510")

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
        overlaps={"boss_dr12": _DESI_BOSS}, cacheable=True,
    ),
    DatasetSpec(
        "desi_dr1", "bao", L.load_desi_dr1,
        metadata={"survey": "DESI DR1", "arxiv": "2404.03000, 2404.03002",
                  "citation": "DESI Collaboration 2024, DESI 2024 III and VI: BAO from galaxies, quasars and "
                  "Lyman-alpha",
                  "description": "12 BAO values: D_V/r_d at z=0.295 and 1.491; D_M/r_d and D_H/r_d at z=0.51..2.33",
                  "n_points": 12, "redshift_range": [0.295, 2.33]},
        overlaps={"desi_dr2": "DESI DR2 contains the DR1 galaxies and quasars", "boss_dr12": _DESI_BOSS},
        cacheable=True,
    ),
    DatasetSpec(
        "boss_dr12", "bao_ani", L.load_boss_dr12, aliases=("bao_ani",),
        metadata={"survey": "SDSS-III BOSS DR12 consensus", "citation": "Alam et al. 2017, MNRAS 470, 2617",
                  "arxiv": "1607.03155", "n_points": 6, "redshift_range": [0.38, 0.61],
                  "description": "D_M r_d,fid/r_d [Mpc] and H r_d/r_d,fid [km/s/Mpc] at z=0.38, 0.51, 0.61 "
                  "(r_d,fid = 147.78 Mpc)"},
        cacheable=True,
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
)

for _spec in BUILTIN_DATASETS:
    register_dataset(_spec, overwrite=True)

__all__ = ["BUILTIN_DATASETS", "M_B"]
