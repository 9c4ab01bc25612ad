"""One record per dataset (:class:`DatasetSpec`) and the one registry every layer reads.

A dataset's facts live in its spec and nowhere else: its canonical name and aliases, its
kind (``dataset_type``), the release files it reads (their sha256 come from the
release-file registry, :mod:`pbufjax.data.files`), its loader, its nuisance parameters
with bounds, defaults and description, its static metadata (survey, citation, arXiv id,
published number of points and redshift range) and the other datasets it overlaps with.
The likelihoods, the fit layer (nuisance bounds and defaults), the integrity checks,
``pbufjax data`` and the shared test ``tests/test_dataset_registry.py`` all read it.

Example:
    >>> from pbufjax.data import DatasetSpec, NuisanceParameter, get_dataset_spec, register_dataset
    >>> get_dataset_spec("bao").name
    'desi_dr2'
    >>> get_dataset_spec("pantheonplus_shoes").nuisance[0].bounds
    (-21.0, -17.5)
    >>> def load_toy(data_dir=None, *, verify=True):        # doctest: +SKIP
    ...     return {...}                                       # a dataset dict (see pbufjax.data)
    >>> register_dataset(DatasetSpec("toy", "bao", load_toy))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from typing import Any, NamedTuple

from . import files as _files

#: Static metadata keys a spec may carry (all optional).
METADATA_KEYS = ("survey", "citation", "arxiv", "description", "n_points", "redshift_range")


class NuisanceParameter(NamedTuple):
    """A parameter of a dataset's likelihood that belongs to no cosmological model.

    Attributes:
        name: parameter name (e.g. ``M_B``).
        default: starting value when it is free, and its value when fixed explicitly.
        bounds: ``(lower, upper)`` optimization bounds, ``lower < default < upper``.
        description: one line, with the reference of the default.
    """

    name: str
    default: float
    bounds: tuple[float, float]
    description: str = ""


def call_loader(loader: Callable[..., dict], data_dir=None, verify: bool = True) -> dict:
    """Call a dataset loader with the arguments it accepts.

    The convention is ``loader(data_dir=None, *, verify=True)``; loaders taking only the
    data folder, or no argument at all (the API reference's ``load_new_dataset()``), work too.
    """
    try:
        params = inspect.signature(loader).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return loader(data_dir, verify=verify)
    kinds = {p.kind for p in params.values()}
    if "verify" in params or inspect.Parameter.VAR_KEYWORD in kinds:
        return loader(data_dir, verify=verify)
    if params:
        return loader(data_dir)
    return loader()


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    """Everything the package knows about one dataset.

    Attributes:
        name: canonical name (``desi_dr2``).
        kind: dataset type (``cmb``, ``bao``, ``bao_ani``, ``sn``, or a kind with a user
            likelihood block); None when only the loaded data says it (a loader added
            through ``DATASET_LOADERS``).
        loader: ``f(data_dir=None, *, verify=True) -> dataset dict`` (see :func:`call_loader`).
        aliases: other names resolving to this one (``bao``).
        release_files: relative paths of the release files read; None means the list
            registered under ``name`` in ``release_files.json`` (empty when none is).
        nuisance: the likelihood's nuisance parameters.
        metadata: static facts, keys of :data:`METADATA_KEYS` (published counts where known).
        overlaps: other dataset -> why their χ² are not independent.
        info_loader: a cheaper loader for metadata only (e.g. without a large covariance),
            same convention as ``loader``.
        cacheable: whether parsed data may be cached, keyed on the resolved release files.
    """

    name: str
    kind: str | None
    loader: Callable[..., dict]
    aliases: tuple[str, ...] = ()
    release_files: tuple[str, ...] | None = None
    nuisance: tuple[NuisanceParameter, ...] = ()
    metadata: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    overlaps: Mapping[str, str] = dataclasses.field(default_factory=dict)
    info_loader: Callable[..., dict] | None = None
    cacheable: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"DatasetSpec.name must be a non-empty string, got {self.name!r}")
        if self.kind is not None and (not isinstance(self.kind, str) or not self.kind):
            raise TypeError(f"dataset {self.name!r}: kind must be a string or None, got {self.kind!r}")
        if not callable(self.loader):
            raise TypeError(f"dataset {self.name!r}: loader must be callable, got {type(self.loader).__name__}")
        object.__setattr__(self, "aliases", tuple(self.aliases))
        if self.release_files is not None:
            object.__setattr__(self, "release_files", tuple(self.release_files))
        object.__setattr__(self, "nuisance", tuple(
            NuisanceParameter(str(p[0]), float(p[1]), (float(p[2][0]), float(p[2][1])), *p[3:]) for p in self.nuisance))
        object.__setattr__(self, "metadata", dict(self.metadata))
        object.__setattr__(self, "overlaps", dict(self.overlaps))
        for a in self.aliases:
            if not isinstance(a, str) or not a or a == self.name:
                raise ValueError(f"dataset {self.name!r}: bad alias {a!r}")
        unknown = sorted(set(self.metadata) - set(METADATA_KEYS))
        if unknown:
            raise ValueError(f"dataset {self.name!r}: unknown metadata key(s) {unknown}; valid: {', '.join(METADATA_KEYS)}")
        for p in self.nuisance:
            lo, hi = p.bounds
            if not (math.isfinite(lo) and math.isfinite(hi) and lo < p.default < hi):
                raise ValueError(f"dataset {self.name!r}: nuisance parameter {p.name!r} needs finite bounds "
                                 f"lower < default < upper, got default {p.default}, bounds {p.bounds}")

    @classmethod
    def from_loader(cls, name: str, loader: Callable[..., dict]) -> DatasetSpec:
        """A spec for a bare loader (``DATASET_LOADERS[name] = f``): its kind and metadata are
        filled from the loaded data's ``metadata`` on the first :func:`pbufjax.data.load_dataset`."""
        return cls(name, None, loader)

    def files(self) -> list[str]:
        """Relative paths of the release files this dataset reads."""
        if self.release_files is not None:
            return list(self.release_files)
        try:
            return _files.dataset_files(self.name)
        except KeyError:
            return []

    def file_hashes(self) -> dict[str, str | None]:
        """Relative path -> published sha256 (None where the release publishes none)."""
        table = _files.release_files()
        return {r: (table.get(r) or {}).get("sha256") for r in self.files()}

    def load(self, data_dir=None, *, verify: bool = True) -> dict:
        """Run the loader (no caching, no validation: use :func:`pbufjax.data.load_dataset`)."""
        return call_loader(self.loader, data_dir, verify)

    def info(self) -> dict[str, Any]:
        """The static info record: name, aliases, dataset type, metadata, nuisance parameters, overlaps."""
        m = self.metadata
        out: dict[str, Any] = {"name": self.name, "aliases": list(self.aliases), "dataset_type": self.kind}
        for k in METADATA_KEYS:
            out[k] = m.get(k)
        out["nuisance_parameters"] = {p.name: {"default": p.default, "bounds": list(p.bounds),
                                               "description": p.description} for p in self.nuisance}
        out["overlaps"] = dict(self.overlaps)
        return out


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

_SPECS: dict[str, DatasetSpec] = {}
_REPLACED: dict[str, DatasetSpec] = {}  # specs whose loader was swapped through DATASET_LOADERS


def _alias_table() -> dict[str, str]:
    return {a: s.name for s in _SPECS.values() for a in s.aliases}


#: ``register`` -> the function behind ``register_dataset(name, kind=..., **data)``
#: (:func:`pbufjax.data.user.register_user_dataset`, which sets it when imported with :mod:`pbufjax.data`).
USER_DATA_HANDLER: dict[str, Callable[..., DatasetSpec]] = {}


def register_dataset(spec: DatasetSpec | str, overwrite: bool | str = False, *, kind: str | None = None,
                     **data) -> DatasetSpec:
    """Add a dataset to the registry.

    Also registers a user's own SN or BAO data from arrays or files: ``register_dataset(name,
    kind="sn", file="my_sn.csv", covariance="my_cov.txt")`` (or ``register_dataset(name, "sn", ...)``)
    is :func:`pbufjax.data.user.register_user_dataset` (formats and keywords there).

    Args:
        spec: the dataset's record (or, for user data, the new dataset's name).
        overwrite: replace a registered spec of the same name (for user data: the kind, when a string).
        kind: for user data, ``sn`` or ``bao``.
        **data: for user data, the keywords of :func:`~pbufjax.data.user.register_user_dataset`.

    Returns:
        ``spec`` (for user data, the new spec).

    Raises:
        TypeError: ``spec`` is not a :class:`DatasetSpec` (nor a name with user data).
        ValueError: the name is taken (without ``overwrite``), a name or alias clashes with
            another dataset's, or a nuisance parameter is defined differently elsewhere.
    """
    if isinstance(spec, str) and (data or kind is not None or isinstance(overwrite, str)):
        kind = overwrite if isinstance(overwrite, str) else kind  # a user's own arrays or files
        return USER_DATA_HANDLER["register"](spec, kind, overwrite=overwrite is True, **data)
    if not isinstance(spec, DatasetSpec):
        raise TypeError(f"register_dataset needs a DatasetSpec (or a name, kind= and user data), got "
                        f"{type(spec).__name__}")
    if data or kind is not None:
        raise TypeError(f"register_dataset: kind= and data keywords ({', '.join(data)}) go with a dataset name, "
                        f"not a DatasetSpec")
    if spec.name in _SPECS and not overwrite:
        raise ValueError(f"dataset {spec.name!r} is already registered (pass overwrite=True to replace it)")
    others = {n: s for n, s in _SPECS.items() if n != spec.name}
    taken = set(others) | {a for s in others.values() for a in s.aliases} | set(_COMBINATIONS)
    clash = sorted(taken & ({spec.name} | set(spec.aliases)))
    if clash:
        raise ValueError(f"dataset {spec.name!r}: name/alias {clash} already used by another dataset")
    defined = {p.name: (p, s.name) for s in others.values() for p in s.nuisance}
    for p in spec.nuisance:
        if p.name in defined and defined[p.name][0][1:3] != p[1:3]:
            raise ValueError(f"dataset {spec.name!r}: nuisance parameter {p.name!r} is defined with other "
                             f"default/bounds by {defined[p.name][1]!r}: {defined[p.name][0]}")
    _SPECS[spec.name] = spec
    return spec


def unregister_dataset(name: str) -> None:
    """Remove a dataset (by canonical name or alias) from the registry."""
    canonical = resolve_name(name)
    del _SPECS[canonical]
    _REPLACED.pop(canonical, None)


def resolve_name(name: str) -> str:
    """Canonical dataset name of a name or alias.

    Raises:
        TypeError: ``name`` is not a string.
        KeyError: unknown name (the message lists the datasets and aliases).
    """
    if not isinstance(name, str):
        raise TypeError(f"dataset name must be a string, got {type(name).__name__}")
    aliases = _alias_table()
    canonical = aliases.get(name, name)
    if canonical not in _SPECS:
        if name in _COMBINATIONS:
            raise KeyError(f"{name!r} is a combination of datasets ({' + '.join(_COMBINATIONS[name].members)}), "
                           "not one dataset: use it in a list of datasets (run_fit, build_likelihood, --datasets) "
                           "or name one of its members")
        listed = ", ".join(f"{a} -> {c}" for a, c in aliases.items())
        combos = f"; combinations: {', '.join(_COMBINATIONS)}" if _COMBINATIONS else ""
        raise KeyError(f"unknown dataset {name!r}; valid datasets: {', '.join(_SPECS)} (aliases: {listed}{combos})")
    return canonical


def get_dataset_spec(name: str) -> DatasetSpec:
    """The spec of a dataset name or alias (KeyError listing the valid names)."""
    return _SPECS[resolve_name(name)]


def dataset_specs() -> dict[str, DatasetSpec]:
    """Canonical name -> spec of every registered dataset, in registration order (a copy)."""
    return dict(_SPECS)


class LiveMapping(Mapping):
    """A read-only mapping recomputed from the registry at every access (``table()`` builds it).

    For derived tables that must follow datasets registered later, e.g.
    ``pbufjax.likelihoods.NUISANCE_PARAMETERS`` and ``pbufjax.optimizer.NUISANCE_BOUNDS``.
    """

    def __init__(self, table: Callable[[], dict]):
        self._table = table

    def __getitem__(self, key):
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return repr(self._table())


def dataset_table() -> str:
    """The registry as a Markdown table (the documentation's dataset table is this output).

    Columns: name, aliases, kind, number of release files (``embedded``: shipped inside the
    package), nuisance parameters, overlapping datasets.
    """
    rows = ["| dataset | aliases | kind | release files | nuisance | overlaps |", "|---|---|---|---|---|---|"]
    for name, spec in _SPECS.items():
        try:
            n = len(spec.release_files) if spec.release_files is not None else len(_files.dataset_files(name))
        except KeyError:
            n = 0
        files = "embedded" if not n else str(n)
        rows.append(f"| `{name}` | {', '.join(spec.aliases) or '—'} | {spec.kind or '?'} | {files} | "
                    f"{', '.join(p.name for p in spec.nuisance) or '—'} | {', '.join(sorted(spec.overlaps)) or '—'} |")
    return "\n".join(rows)


def list_datasets() -> list[str]:
    """Canonical names of the registered datasets."""
    return list(_SPECS)


def nuisance_parameters(names: Iterable[str] | None = None) -> dict[str, NuisanceParameter]:
    """Nuisance parameters of the given datasets (names, aliases or combinations; None: every dataset).

    Returns:
        name -> :class:`NuisanceParameter`, in dataset order, each parameter once.

    Raises:
        KeyError: unknown dataset.
    """
    specs = _SPECS.values() if names is None else [_SPECS[n] for n in expand_datasets(names)]
    out: dict[str, NuisanceParameter] = {}
    for s in specs:
        for p in s.nuisance:
            out.setdefault(p.name, p)
    return out


def nuisance_users(parameter: str) -> list[str]:
    """Canonical names of the datasets whose likelihood has nuisance parameter ``parameter``."""
    return [s.name for s in _SPECS.values() if any(p.name == parameter for p in s.nuisance)]


def overlap_pairs() -> list[tuple[str, str, str]]:
    """Every declared overlap ``(a, b, why)`` once, ``a`` the dataset declaring it."""
    out, seen = [], set()
    for s in _SPECS.values():
        for other, why in s.overlaps.items():
            if frozenset((s.name, other)) not in seen:
                seen.add(frozenset((s.name, other)))
                out.append((s.name, other, why))
    return out


def dataset_overlaps(names: Iterable[str]) -> list[str]:
    """Warnings for combinations of datasets that are not independent (unknown names are ignored).

    Example:
        >>> dataset_overlaps(["desi_dr2", "boss_dr12"])  # doctest: +ELLIPSIS
        ['desi_dr2 + boss_dr12: DESI and BOSS DR12 overlap...']
    """
    chosen = []
    for d in _as_names(names):
        try:
            chosen += list(_COMBINATIONS[d].members) if d in _COMBINATIONS else [resolve_name(d)]
        except (KeyError, TypeError):
            chosen.append(d)
    return [f"{a} + {b}: {why}; their χ² are not independent" for a, b, why in overlap_pairs()
            if a in chosen and b in chosen]


def _as_names(names) -> list:
    return [s.strip() for s in names.split(",") if s.strip()] if isinstance(names, str) else list(names)


# ---------------------------------------------------------------------------
# Named combinations: one name standing for several datasets (e.g. ``sdss_legacy``)
# ---------------------------------------------------------------------------


class DatasetCombination(NamedTuple):
    """A name standing for a list of datasets, usable wherever a list of dataset names is.

    Attributes:
        name: the combination's name (``sdss_legacy``); distinct from every dataset name and alias.
        members: canonical names of the datasets it stands for, in order.
        description: one line: what is combined and what was left out.
        reference: where the recommendation comes from (citation, arXiv id).
    """

    name: str
    members: tuple[str, ...]
    description: str = ""
    reference: str = ""


_COMBINATIONS: dict[str, DatasetCombination] = {}


def register_combination(name: str, members: Iterable[str], description: str = "", reference: str = "", *,
                         overwrite: bool = False) -> DatasetCombination:
    """Register a named combination of datasets.

    A combination expands to its members wherever a list of datasets is read
    (:func:`expand_datasets`: ``run_fit``, ``build_likelihood``, the fit problem, the CLI's
    ``--datasets``, configuration files); the results are then keyed by the members' names.

    Args:
        name: the combination's name.
        members: dataset names or aliases (registered, each once; not combinations).
        description: one line for ``pbufjax data list``.
        reference: citation of the recommended combination.
        overwrite: replace a registered combination of the same name.

    Returns:
        The :class:`DatasetCombination` (members as canonical names).

    Raises:
        TypeError: a name that is not a string. ValueError: an empty or duplicated member
            list, a member that is itself a combination, a name taken by a dataset, alias or
            (without ``overwrite``) another combination. KeyError: an unknown member.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"combination name must be a non-empty string, got {name!r}")
    if name in _SPECS or name in _alias_table():
        raise ValueError(f"combination name {name!r} is already a dataset name or alias")
    if name in _COMBINATIONS and not overwrite:
        raise ValueError(f"combination {name!r} is already registered (pass overwrite=True to replace it)")
    given = _as_names(members)
    nested = [m for m in given if m in _COMBINATIONS]
    if nested:
        raise ValueError(f"combination {name!r}: members {nested} are combinations themselves; list their datasets")
    canonical = tuple(resolve_name(m) for m in given)
    if not canonical:
        raise ValueError(f"combination {name!r} has no members")
    dup = sorted({c for c in canonical if canonical.count(c) > 1})
    if dup:
        raise ValueError(f"combination {name!r} lists dataset(s) {dup} twice")
    combo = DatasetCombination(name, canonical, str(description), str(reference))
    _COMBINATIONS[name] = combo
    return combo


def unregister_combination(name: str) -> None:
    """Remove a registered combination (KeyError when there is none of that name)."""
    if name not in _COMBINATIONS:
        raise KeyError(f"unknown combination {name!r}; registered: {', '.join(_COMBINATIONS) or '(none)'}")
    del _COMBINATIONS[name]


def dataset_combinations() -> dict[str, DatasetCombination]:
    """Name -> :class:`DatasetCombination` of every registered combination (a copy)."""
    return dict(_COMBINATIONS)


def is_combination(name: Any) -> bool:
    """Whether ``name`` is a registered combination."""
    return isinstance(name, str) and name in _COMBINATIONS


def dataset_name_pairs(names: Iterable[str] | str) -> list[tuple[str, str]]:
    """``(name, canonical name)`` of every dataset a list of names stands for, in order.

    A dataset name or alias gives ``(name as written, canonical)``; a combination gives
    ``(member, member)`` for each of its members. Duplicates are kept (callers refuse them
    with their own message).

    Example:
        >>> dataset_name_pairs(["bao", "sdss_legacy"])[:2]
        [('bao', 'desi_dr2'), ('sdss_mgs', 'sdss_mgs')]

    Raises:
        TypeError: a name that is not a string. KeyError: an unknown name (listing the valid ones).
    """
    out: list[tuple[str, str]] = []
    for d in _as_names(names):
        if is_combination(d):
            out += [(m, m) for m in _COMBINATIONS[d].members]
        else:
            out.append((d, resolve_name(d)))
    return out


def expand_datasets(names: Iterable[str] | str) -> list[str]:
    """Canonical dataset names of a list of names, aliases and combinations (order kept, duplicates kept).

    Example:
        >>> expand_datasets("cmb,sdss_legacy")
        ['planck2018_priors', 'sdss_mgs', 'boss_dr12_2bins', 'eboss_dr16']

    Raises:
        TypeError, KeyError: as :func:`dataset_name_pairs`.
    """
    return [c for _, c in dataset_name_pairs(names)]


# ---------------------------------------------------------------------------
# Views kept for the API reference: ALIASES and DATASET_LOADERS read (and write) the registry
# ---------------------------------------------------------------------------


class _AliasView(Mapping):
    """alias -> canonical name, read live from the registry."""

    def __getitem__(self, key):
        return _alias_table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_alias_table())

    def __len__(self) -> int:
        return len(_alias_table())

    def __repr__(self) -> str:
        return repr(_alias_table())


class _LoaderView(MutableMapping):
    """canonical name -> loader, read live from the registry.

    Setting a new name registers :meth:`DatasetSpec.from_loader`; setting a registered name
    swaps the loader of its spec (setting the original loader back restores the original
    spec); deleting a name unregisters it.
    """

    def __getitem__(self, key):
        return _SPECS[key].loader

    def __setitem__(self, key, loader):
        if not callable(loader):
            raise TypeError(f"DATASET_LOADERS[{key!r}] must be callable, got {type(loader).__name__}")
        if key in _REPLACED and _REPLACED[key].loader is loader:
            register_dataset(_REPLACED.pop(key), overwrite=True)
        elif key in _SPECS:
            _REPLACED.setdefault(key, _SPECS[key])
            register_dataset(dataclasses.replace(_SPECS[key], loader=loader, info_loader=None, cacheable=False),
                             overwrite=True)
        else:
            register_dataset(DatasetSpec.from_loader(key, loader))

    def __delitem__(self, key):
        if key not in _SPECS:
            raise KeyError(key)
        unregister_dataset(key)

    def __iter__(self) -> Iterator[str]:
        return iter(list(_SPECS))

    def __len__(self) -> int:
        return len(_SPECS)

    def __repr__(self) -> str:
        return repr({k: s.loader for k, s in _SPECS.items()})


#: API-reference names -> canonical dataset names (a live view of the specs' aliases).
ALIASES: Mapping[str, str] = _AliasView()

#: canonical name -> loader ``f(data_dir=None, *, verify=True) -> dataset dict`` (a live view of
#: the registry). ``DATASET_LOADERS["new"] = load_new`` registers a dataset whose kind and
#: metadata come from the loaded data (a loader taking no arguments works too).
DATASET_LOADERS: MutableMapping[str, Callable[..., dict]] = _LoaderView()

__all__ = [
    "ALIASES",
    "LiveMapping",
    "DATASET_LOADERS",
    "METADATA_KEYS",
    "DatasetCombination",
    "DatasetSpec",
    "NuisanceParameter",
    "call_loader",
    "dataset_combinations",
    "dataset_name_pairs",
    "dataset_overlaps",
    "dataset_specs",
    "expand_datasets",
    "is_combination",
    "dataset_table",
    "get_dataset_spec",
    "list_datasets",
    "nuisance_parameters",
    "nuisance_users",
    "overlap_pairs",
    "register_combination",
    "register_dataset",
    "resolve_name",
    "unregister_combination",
    "unregister_dataset",
]
