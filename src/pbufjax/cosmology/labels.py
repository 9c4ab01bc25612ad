r"""The one table of display labels: every parameter's and derived quantity's LaTeX symbol and
unit, and every dataset's display name.

Figures, chain files (getdist ``.paramnames``) and reports take their labels from here, so a
quantity reads the same everywhere, e.g. ``axis_label("H0")`` is
``$H_0\,[\mathrm{km\,s^{-1}\,Mpc^{-1}}]$`` and ``dataset_label("desi_dr2")`` is ``DESI DR2``.
A name missing from the table falls back to itself (typeset upright), so user parameters and
datasets still get a readable label.

Symbols follow the papers of the data used: :math:`hr_\mathrm{d}` is the calibration-free BAO
parameter (DESI DR2, arXiv:2503.14738), :math:`w_0, w_a` the CPL equation of state
(Chevallier & Polarski 2001, gr-qc/0009008; Linder 2003, astro-ph/0208512).
"""

from __future__ import annotations

from typing import NamedTuple


class Label(NamedTuple):
    """Display form of one quantity.

    Attributes:
        symbol: LaTeX math without the ``$`` (e.g. ``H_0``).
        unit: LaTeX unit without the ``$`` and brackets (``""`` when dimensionless).
        description: one line in words.
    """

    symbol: str
    unit: str
    description: str


_KMS_MPC = r"\mathrm{km\,s^{-1}\,Mpc^{-1}}"
_MPC = r"\mathrm{Mpc}"

#: Every model parameter, nuisance parameter and derived quantity -> its :class:`Label`.
LABELS: dict[str, Label] = {
    # base cosmological parameters (every model)
    "H0": Label("H_0", _KMS_MPC, "Hubble constant"),
    "Om0": Label(r"\Omega_\mathrm{m}", "", "matter density today"),
    "Obh2": Label(r"\Omega_\mathrm{b} h^2", "", "physical baryon density"),
    "ns": Label(r"n_\mathrm{s}", "", "scalar spectral index"),
    "Neff": Label(r"N_\mathrm{eff}", "", "effective number of neutrino species"),
    "Ok0": Label(r"\Omega_k", "", "spatial curvature density today"),
    "mnu": Label(r"\Sigma m_\nu", r"\mathrm{eV}", "sum of neutrino masses"),
    "Tcmb": Label(r"T_\mathrm{CMB}", r"\mathrm{K}", "CMB temperature today"),
    # dark energy (wcdm, w0wacdm)
    "w0": Label("w_0", "", "dark-energy equation of state today"),
    "wa": Label("w_a", "", "dark-energy equation-of-state evolution (CPL)"),
    # PBUF
    "alpha": Label(r"\alpha", "", "PBUF elastic coupling"),
    "Rmax": Label(r"R_\mathrm{max}", "", "PBUF saturation scale"),
    "eps0": Label(r"\epsilon_0", "", "PBUF elastic strain today"),
    "n_eps": Label(r"n_\epsilon", "", "PBUF strain redshift index"),
    "k_sat": Label(r"k_\mathrm{sat}", "", "PBUF radiation saturation factor"),
    # nuisance parameters of the datasets
    "hrd": Label(r"hr_\mathrm{d}", _MPC, "h times the sound horizon at the drag epoch (BAO calibration)"),
    "M_B": Label("M_B", r"\mathrm{mag}", "SN Ia absolute magnitude"),
    # derived quantities
    "Omh2": Label(r"\Omega_\mathrm{m} h^2", "", "physical matter density"),
    "omnuh2": Label(r"\Omega_\nu h^2", "", "physical massive-neutrino density"),
    "Onu0": Label(r"\Omega_\nu", "", "massive-neutrino density today"),
    "r_s_drag": Label(r"r_\mathrm{d}", _MPC, "sound horizon at the drag epoch"),
    "h_rd": Label(r"hr_\mathrm{d}", _MPC, "h times the sound horizon at the drag epoch"),
    "100theta_star": Label(r"100\theta_*", "", "acoustic angle at photon decoupling, times 100"),
    "z_recomb": Label(r"z_*", "", "redshift of photon decoupling"),
    "z_drag": Label(r"z_\mathrm{d}", "", "redshift of the baryon drag epoch"),
    # observables drawn on figure axes (BAO distances over r_d, DESI 2025 arXiv:2503.14738 eq. 2.1-2.3; SN moduli)
    "z": Label("z", "", "redshift"),
    "DM_over_rd": Label(r"D_\mathrm{M}/r_\mathrm{d}", "", "transverse comoving distance over the sound horizon"),
    "DH_over_rd": Label(r"D_\mathrm{H}/r_\mathrm{d}", "", "Hubble distance c/H(z) over the sound horizon"),
    "DV_over_rd": Label(r"D_\mathrm{V}/r_\mathrm{d}", "", "angle-averaged distance over the sound horizon"),
    "mu": Label(r"\mu", r"\mathrm{mag}", "distance modulus"),
    "delta_mu": Label(r"\mu - \mu_\mathrm{model}", r"\mathrm{mag}", "distance-modulus residual"),
    "chi2": Label(r"\chi^2", "", "chi-squared"),
    "delta_chi2": Label(r"\Delta\chi^2", "", "difference of chi-squared"),
}

#: Every built-in dataset and combination -> its display name (plain text).
DATASET_LABELS: dict[str, str] = {
    "planck2018_priors": "Planck 2018 distance priors",
    "planck2018_priors_ns": "Planck 2018 distance priors (with n_s)",
    "planck_pr4_compressed": "Planck PR4 (compressed)",
    "thetastar": "Planck θ*",
    "desi_dr1": "DESI DR1",
    "desi_dr2": "DESI DR2",
    "boss_dr12": "BOSS DR12",
    "boss_dr12_2bins": "BOSS DR12 (2 bins)",
    "eboss_dr16": "eBOSS DR16",
    "sdss_mgs": "SDSS MGS",
    "sdss_legacy": "SDSS (MGS + BOSS DR12 + eBOSS DR16)",
    "union3": "Union3",
    "pantheonplus": "Pantheon+",
    "pantheonplus_shoes": "Pantheon+ & SH0ES",
    "desy5": "DES-SN5YR",
    "desy5_stat": "DES-SN5YR (stat. only)",
    "des_dovekie": "DES-Dovekie",
    "des_dovekie_stat": "DES-Dovekie (stat. only)",
    "bbn": "BBN",
    "bbn_neff": "BBN (with N_eff)",
    "sh0es": "SH0ES",
}


#: Every built-in model -> its display name (plain text).
MODEL_LABELS: dict[str, str] = {
    "lcdm": "ΛCDM",
    "wcdm": "wCDM",
    "w0wacdm": "w0waCDM",
    "pbuf": "PBUF",
}


def _check(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise TypeError(f"{what} name must be a non-empty str, got {name!r}")
    return name


def label(name: str) -> Label:
    r"""The :class:`Label` of a parameter or derived quantity; an unknown name gets
    ``Label(r"\mathrm{<name>}", "", name)``.

    Raises:
        TypeError: ``name`` is not a non-empty string.
    """
    name = _check(name, "parameter")
    if name in LABELS:
        return LABELS[name]
    return Label(r"\mathrm{" + name.replace("_", r"\_") + "}", "", name)


def latex(name: str, *, unit: bool = True) -> str:
    r"""LaTeX math (no ``$``) of ``name``, with its unit in brackets when it has one:
    ``latex("hrd")`` is ``hr_\mathrm{d}\,[\mathrm{Mpc}]`` (the getdist ``.paramnames`` label)."""
    lab = label(name)
    return lab.symbol + (rf"\,[{lab.unit}]" if unit and lab.unit else "")


def axis_label(name: str, *, unit: bool = True) -> str:
    r"""Axis label for matplotlib: ``axis_label("H0")`` is ``$H_0\,[\mathrm{km\,s^{-1}\,Mpc^{-1}}]$``."""
    return f"${latex(name, unit=unit)}$"


def unit(name: str) -> str:
    """The LaTeX unit of ``name`` (``""`` when dimensionless or unknown)."""
    return label(name).unit


def dataset_label(name: str) -> str:
    """Display name of a dataset (``"desi_dr2"`` -> ``"DESI DR2"``); an unknown name is returned as is.

    Raises:
        TypeError: ``name`` is not a non-empty string.
    """
    name = _check(name, "dataset")
    return DATASET_LABELS.get(name, name)


def model_label(name: str) -> str:
    """Display name of a model (``"lcdm"`` -> ``"ΛCDM"``); an unknown name is returned as is.

    Raises:
        TypeError: ``name`` is not a non-empty string.
    """
    name = _check(name, "model")
    return MODEL_LABELS.get(name, name)


__all__ = ["DATASET_LABELS", "LABELS", "MODEL_LABELS", "Label", "axis_label", "dataset_label", "label", "latex",
           "model_label", "unit"]
