"""Observational datasets (API-reference module): re-exports :mod:`pbufjax.data`.

Every dataset is one :class:`~pbufjax.data.DatasetSpec` in one registry; see
:mod:`pbufjax.data` for the dataset dict's shape and the built-in datasets.

Example:
    >>> from pbufjax.datasets import load_dataset
    >>> bao = load_dataset("bao")                    # DESI DR2   # doctest: +SKIP
    >>> bao["metadata"]["n_points"], bao["quantities"][:2]        # doctest: +SKIP
    (13, ('DV_over_rs', 'DM_over_rs'))
"""

from .data.catalog import get_dataset_info, load_dataset
from .data.files import DataFileNotFoundError
from .data.kinds import BAO_QUANTITIES, BAO_QUANTITIES_WITH_RDFID, CMB_OBSERVABLES, DATASET_TYPES
from .data.loaders import (
    BOSS_DR12_RD_FID,
    PLANCK2018_Z_STAR,
    load_boss_dr12,
    load_desi_dr1,
    load_desi_dr2,
    load_pantheonplus,
    load_pantheonplus_shoes,
    load_planck2018_priors,
    load_planck2018_priors_ns,
    load_union3,
)
from .data.files import DataFileTypeError
from .data.readers import (
    PANTHEON_COLUMNS,
    DataFormatError,
    read_bao_mean,
    read_flat_covariance,
    read_matrix,
    read_pantheonplus,
    read_union3,
)
from .data.spec import (
    ALIASES,
    DATASET_LOADERS,
    DatasetSpec,
    NuisanceParameter,
    dataset_overlaps,
    dataset_specs,
    get_dataset_spec,
    list_datasets,
    nuisance_parameters,
    register_dataset,
    resolve_name,
)
from .data.validation import DatasetValidationError, check_covariance, validate_dataset

__all__ = [
    "ALIASES",
    "BAO_QUANTITIES",
    "BAO_QUANTITIES_WITH_RDFID",
    "BOSS_DR12_RD_FID",
    "CMB_OBSERVABLES",
    "DATASET_LOADERS",
    "DATASET_TYPES",
    "PANTHEON_COLUMNS",
    "PLANCK2018_Z_STAR",
    "DataFileNotFoundError",
    "DataFileTypeError",
    "DataFormatError",
    "DatasetSpec",
    "DatasetValidationError",
    "NuisanceParameter",
    "check_covariance",
    "dataset_overlaps",
    "dataset_specs",
    "get_dataset_info",
    "get_dataset_spec",
    "list_datasets",
    "load_boss_dr12",
    "load_dataset",
    "load_desi_dr1",
    "load_desi_dr2",
    "load_pantheonplus",
    "load_pantheonplus_shoes",
    "load_planck2018_priors",
    "load_planck2018_priors_ns",
    "load_union3",
    "nuisance_parameters",
    "read_bao_mean",
    "read_flat_covariance",
    "read_matrix",
    "read_pantheonplus",
    "read_union3",
    "register_dataset",
    "resolve_name",
    "validate_dataset",
]
