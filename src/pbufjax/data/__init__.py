"""The data layer: dataset records (one registry), release files, readers, loaders, validation.

Every dataset is a plain dict with the API reference's shape::

    {
        "name": "desi_dr2",                 # canonical name
        "observations": np.ndarray (n,),     # data vector
        "covariance": np.ndarray (n, n),     # full covariance of the data vector
        "labels": list[str],                 # one label per data point
        "metadata": {"n_points", "redshift_range", "survey", "citation", "arxiv",
                     "dataset_type", "description", "files", ...},
        # plus type-specific keys (see below)
    }

``dataset_type`` is one of :data:`DATASET_TYPES`:

* ``cmb``: distance priors; extra key ``observables`` (names of the entries, from
  ``R, l_A, omega_b, n_s``).
* ``bao`` and ``bao_ani``: extra keys ``redshifts``, ``quantities`` (one name of
  :data:`BAO_QUANTITIES` per point) and ``rd_fid`` (fiducial sound horizon per point
  [Mpc], NaN where unused).
* ``bao_tabulated``: one BAO point whose likelihood is a tabulated :math:`\\chi^2(\\alpha)`
  (SDSS DR7 MGS); the ``bao`` keys (``observations``/``covariance``: the published Gaussian
  summary) plus ``table_alpha``, ``table_chi2`` and ``table_reference`` (the quantity at
  :math:`\\alpha = 1`). Every BAO dataset has the nuisance parameter ``hrd`` (:math:`h r_d`).
* ``sn``: extra keys ``z_cmb``, ``z_hel``; for SH0ES-calibrated data also
  ``is_calibrator`` (bool) and ``ceph_dist`` (Cepheid distance moduli of the calibrator
  hosts). ``observations`` are distance moduli up to an unknown offset (Union3) or
  corrected apparent magnitudes :math:`m_B` (Pantheon+).

Every dataset is one :class:`DatasetSpec` in one registry (:func:`register_dataset`,
:func:`get_dataset_spec`, :func:`dataset_specs`): name, aliases, kind, release files,
loader, nuisance parameters, metadata and overlaps. The built-in ones
(:mod:`pbufjax.data.builtin`) and their aliases:

=========================  =============  =====================================================
name                       type           content
=========================  =============  =====================================================
``planck2018_priors``      cmb            :math:`R, \\ell_A, \\omega_b` (arXiv:1808.05724), embedded
``planck2018_priors_ns``   cmb            the same plus :math:`n_s`, embedded
``desi_dr2``               bao            DESI DR2, 13 values (arXiv:2503.14738)
``desi_dr1``               bao            DESI DR1, 12 values (arXiv:2404.03002)
``boss_dr12``              bao_ani        BOSS DR12 consensus, 6 values (arXiv:1607.03155)
``union3``                 sn             Union3/UNITY1.5, 22 nodes (arXiv:2311.12098)
``pantheonplus``           sn             Pantheon+ with zHD > 0.01, 1590 SNe (arXiv:2202.04077)
``pantheonplus_shoes``     sn             Pantheon+ with the 77 SH0ES calibrators, 1657 (arXiv:2112.03863)
``eboss_dr16``             bao            eBOSS DR16 LRG and QSO, 4 values (arXiv:2007.08991)
``boss_dr12_2bins``        bao_ani        BOSS DR12 consensus at z = 0.38, 0.51, 4 values (arXiv:1607.03155)
``sdss_mgs``               bao_tabulated  SDSS DR7 MGS, tabulated :math:`\\chi^2(\\alpha)` at z = 0.15 (arXiv:1409.3242)
=========================  =============  =====================================================

Named combinations (:func:`register_combination`; a name standing for several datasets
wherever a list of datasets is read): ``sdss_legacy`` = ``sdss_mgs`` + ``boss_dr12_2bins`` +
``eboss_dr16`` (the SDSS BAO of arXiv:2007.08991 without ELG and Lyman-alpha).

Aliases: ``cmb`` -> ``planck2018_priors``, ``bao`` -> ``desi_dr2``,
``bao_ani`` -> ``boss_dr12``, ``sn`` -> ``union3``.

Release files are found by :mod:`pbufjax.data.files` (argument ``data_dir``, then
``PBUFJAX_DATA_DIR``, then the user cache) and, by default, checked against their
published sha256. A path that holds a folder, a FIFO or a dangling link instead of the
file raises :class:`DataFileTypeError`; a file that is not UTF-8 text raises
:class:`DataFormatError` naming it.

Modules: :mod:`~pbufjax.data.kinds` (types, BAO quantities, CMB observables),
:mod:`~pbufjax.data.spec` (DatasetSpec and the registry), :mod:`~pbufjax.data.files`
(release-file registry, search, sha256, fetch), :mod:`~pbufjax.data.readers` (file formats),
:mod:`~pbufjax.data.validation`, :mod:`~pbufjax.data.loaders` (the built-in ``load_*``),
:mod:`~pbufjax.data.builtin` (the built-in specs), :mod:`~pbufjax.data.catalog`
(``load_dataset``, ``get_dataset_info``, ``fetch`` by name).

Example:
    >>> from pbufjax.data import load_dataset
    >>> bao = load_dataset("bao")                    # DESI DR2   # doctest: +SKIP
    >>> bao["metadata"]["n_points"], bao["quantities"][:2]        # doctest: +SKIP
    (13, ('DV_over_rs', 'DM_over_rs'))
"""

from . import builtin as builtin  # registers the built-in specs (reads no file)
from .catalog import clear_dataset_cache, fetch, get_dataset_info, load_dataset, status
from .files import DataFileHashError, DataFileNotFoundError, DataFileTypeError
from .kinds import BAO_QUANTITIES, BAO_QUANTITIES_WITH_RDFID, BAO_TYPES, CMB_OBSERVABLES, DATASET_TYPES
from .readers import DataFormatError
from .spec import (
    ALIASES,
    DATASET_LOADERS,
    DatasetCombination,
    DatasetSpec,
    NuisanceParameter,
    dataset_combinations,
    dataset_name_pairs,
    dataset_overlaps,
    dataset_specs,
    dataset_table,
    expand_datasets,
    is_combination,
    LiveMapping,
    get_dataset_spec,
    list_datasets,
    nuisance_parameters,
    nuisance_users,
    overlap_pairs,
    register_combination,
    register_dataset,
    resolve_name,
    unregister_combination,
    unregister_dataset,
)
from .validation import DatasetValidationError, check_covariance, validate_dataset
from .user import register_user_dataset, register_user_files, unregister_user_datasets, user_datasets

__all__ = [
    "ALIASES",
    "BAO_QUANTITIES",
    "BAO_QUANTITIES_WITH_RDFID",
    "BAO_TYPES",
    "CMB_OBSERVABLES",
    "DATASET_LOADERS",
    "DATASET_TYPES",
    "DataFileHashError",
    "DataFileNotFoundError",
    "DataFileTypeError",
    "DataFormatError",
    "DatasetCombination",
    "DatasetSpec",
    "DatasetValidationError",
    "NuisanceParameter",
    "check_covariance",
    "clear_dataset_cache",
    "dataset_combinations",
    "dataset_name_pairs",
    "dataset_overlaps",
    "dataset_specs",
    "dataset_table",
    "LiveMapping",
    "expand_datasets",
    "fetch",
    "get_dataset_info",
    "get_dataset_spec",
    "is_combination",
    "list_datasets",
    "load_dataset",
    "nuisance_parameters",
    "nuisance_users",
    "overlap_pairs",
    "register_combination",
    "register_dataset",
    "register_user_dataset",
    "register_user_files",
    "resolve_name",
    "status",
    "unregister_combination",
    "unregister_dataset",
    "unregister_user_datasets",
    "user_datasets",
    "validate_dataset",
]
