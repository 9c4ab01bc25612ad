"""The command line's one vocabulary: argument types, shared option groups and their resolution.

Every subcommand spells the same thing the same way (the API reference's spellings first,
the other accepted as an alias)::

    --model M                       model (help lists every registered model)
    --datasets A,B                  datasets or aliases (help lists the dataset registry)
    --optimize P1,P2   = --params   free parameters (plot bao/sn also: --fit)
    --H0 70            = --set H0=70    parameter values (every parameter of every model,
                                        nuisance parameters of every registered dataset)
    --recomb-method M  = --set recomb_method=M   (choices: the recombination registry)
    --optimizer NAME   = --method NAME           (choices: the solver registry)
    --cov-scale F                   scale every covariance by F
    --no-precomputed   = --no-store do not start from the stored optimized values
    --data-dir DIR, --store-dir DIR, --json, -q, -v, --debug

A setting given twice with different values (``--set H0=70 --H0 71``, ``--optimize H0
--params Om0``) is an error (exit code 2, one line naming both spellings).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .output import UsageError, message
from .user_files import add_user_files, user_file_datasets

DEFAULT_MODEL = "lcdm"


# ---------------------------------------------------------------------------
# argument types


def finite_float(text: str) -> float:
    """A finite real number (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def count(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer ``>= minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value

    return parse


positive_int = count(1)


def positive_float(text: str) -> float:
    """A finite number > 0 (argparse type)."""
    value = finite_float(text)
    if not value > 0.0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {value}")
    return value


def probability(text: str) -> float:
    """A number strictly between 0 and 1 (argparse type)."""
    value = finite_float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def name_list(text: str | None) -> list[str] | None:
    """``"H0,Om0"`` -> ``["H0", "Om0"]`` (None stays None).

    Raises:
        UsageError: an empty name in the list.
    """
    if text is None:
        return None
    names = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in names):
        raise UsageError(f"empty name in the list {text!r}; give names separated by commas (e.g. H0,Om0)")
    return names


def number(name: str, text: str, flag: str) -> float:
    """The value of ``NAME=X`` as a finite float, or a :class:`UsageError` naming ``flag``."""
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"{flag} {name}={text}: value of {name!r} is not a number: {text!r}") from None
    if not math.isfinite(value):
        raise UsageError(f"{flag} {name}={text}: value of {name!r} is not a finite number")
    return value


def settings(items: Sequence[str], flag: str) -> dict[str, float]:
    """``["NAME=X", ...]`` -> ``{NAME: X}`` (used by ``--fiducial``)."""
    out: dict[str, float] = {}
    for item in items or []:
        name, sep, value = (s.strip() for s in item.partition("="))
        if not sep or not name:
            raise UsageError(f"{flag} {item!r}: expected NAME=VALUE (e.g. {flag} H0=70)")
        out[name] = number(name, value, flag)
    return out


# ---------------------------------------------------------------------------
# the registries the vocabulary reads


def recomb_methods() -> list[str]:
    """Names of the registered recombination methods."""
    from ..cosmology.recombination import RECOMBINATION_METHODS

    return list(RECOMBINATION_METHODS)


def optimizer_names() -> list[str]:
    """Names of the registered solvers (:func:`pbufjax.fit.solvers.solver_names`)."""
    from ..fit.solvers import solver_names

    return list(solver_names())


def batch_optimizer_names() -> list[str]:
    """Solvers usable in vmapped batches (:func:`pbufjax.fit.solvers.batch_solvers`)."""
    from ..fit.solvers import batch_solvers

    return list(batch_solvers())


def model_parameters(model: str) -> list[str]:
    """Numeric parameters of ``model`` (no static or derived ones)."""
    from ..cosmology import parameters as parameter

    return [k for k in parameter.get_defaults(model) if k not in parameter.STATIC_PARAMS]


def nuisance_names(datasets: Sequence[str] | None = None) -> list[str]:
    """Nuisance parameters of ``datasets`` (default: every registered dataset)."""
    from .. import data as dsmod

    names = list(dsmod.list_datasets()) if datasets is None else dsmod.expand_datasets(datasets)
    return list(dsmod.nuisance_parameters(names))


def all_parameter_names() -> list[str]:
    """Parameters of every model and nuisance parameters of every dataset (the ``--NAME X`` flags)."""
    from ..cosmology import parameters as parameter

    names: list[str] = []
    for model in parameter.available_models():
        names += [k for k in model_parameters(model) if k not in parameter.DERIVED_PARAMS and k not in names]
    return names + [k for k in nuisance_names() if k not in names]


def models_epilog() -> str:
    """Help text: every model with its parameters (optimizable ones marked ``*``)."""
    from ..cosmology import parameters as parameter

    lines = ["models (parameters; optimizable marked *):"]
    for model in parameter.available_models():
        opt = set(parameter.optimizable_parameters(model))
        lines.append(f"  {model:9s} " + ", ".join(p + ("*" if p in opt else "") for p in model_parameters(model)))
    return "\n".join(lines)


def datasets_epilog() -> str:
    """Help text: every registered dataset, its kind, and the aliases."""
    from .. import data as dsmod

    specs = dsmod.dataset_specs()
    names = ", ".join(f"{name} ({spec.kind})" for name, spec in specs.items())
    aliases = ", ".join(f"{a} -> {name}" for name, spec in specs.items() for a in spec.aliases)
    combos = ", ".join(f"{c.name} = {' + '.join(c.members)}" for c in dsmod.dataset_combinations().values())
    return f"datasets: {names}\n  aliases: {aliases}" + (f"\n  combinations: {combos}" if combos else "")


def help_epilog() -> str:
    """The epilog of every subcommand: models and datasets."""
    return models_epilog() + "\n\n" + datasets_epilog()


class Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one-line :class:`UsageError` and whose epilog is computed lazily.

    The default epilog lists the models and the datasets (every subcommand's help shows them).
    """

    def __init__(self, *args, lazy_epilog: Callable[[], str] | None = help_epilog, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)
        self._lazy_epilog = lazy_epilog

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def format_help(self):
        if self._lazy_epilog is not None:
            try:
                self.epilog = self._lazy_epilog()
            except Exception as exc:  # noqa: BLE001 - help must never fail
                self.epilog = f"(could not list models and datasets: {exc})"
        return super().format_help()


# ---------------------------------------------------------------------------
# actions: one destination, several spellings, conflicts refused


class Once(argparse.Action):
    """Store a value; one setting given twice (under any spelling) with different values is an error.

    ``normalize`` (optional) maps a value to the form compared (e.g. :func:`name_list`).
    """

    def __init__(self, *args, normalize: Callable[[Any], Any] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.normalize = normalize or (lambda v: v)

    def __call__(self, parser, namespace, values, option_string=None):
        seen = dict(getattr(namespace, "spellings", None) or {})
        if self.dest in seen and self.normalize(seen[self.dest][1]) != self.normalize(values):
            flag, previous = seen[self.dest]
            raise UsageError(f"conflicting values: {flag} {previous} and {option_string} {values}; give one of them")
        seen[self.dest] = (option_string, values)
        namespace.spellings = seen
        setattr(namespace, self.dest, values)


class ParameterValue(argparse.Action):
    """``--NAME X``, ``--set NAME=X`` and ``--recomb-method M`` into one ``param_values`` table.

    ``param_values`` maps a parameter to ``(flag, spelling, value)``; the same parameter given
    twice with different values is an error naming both spellings.
    """

    def __init__(self, *args, parameter: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parameter = parameter

    def __call__(self, parser, namespace, values, option_string=None):
        if self.parameter is None:  # --set NAME=X
            name, sep, text = (s.strip() for s in values.partition("="))
            if not sep or not name:
                raise UsageError(f"--set {values!r}: expected NAME=VALUE (e.g. --set H0=70)")
            value = text if name == "recomb_method" else number(name, text, "--set")
            if name == "recomb_method" and text not in recomb_methods():
                raise UsageError(f"--set {values}: unknown recomb_method {text!r}; valid: {', '.join(recomb_methods())}")
            flag, spelling = "--set", f"--set {values}"
        else:
            text = f"{values:.15g}" if isinstance(values, float) else values
            name, value, flag, spelling = self.parameter, values, option_string, f"{option_string} {text}"
        given = dict(getattr(namespace, "param_values", None) or {})
        if name in given and given[name][2] != value:
            raise UsageError(f"conflicting values for {name}: {given[name][1]} and {spelling}; give one of them")
        given[name] = (flag, spelling, value)
        namespace.param_values = given


# ---------------------------------------------------------------------------
# option groups


def add_general(p: argparse.ArgumentParser, *, store: bool = True, data: bool = True, json_out: bool = True) -> None:
    """``--store-dir``, ``--data-dir``, ``--json``, ``-q``, ``-v``, ``--debug``."""
    g = p.add_argument_group("general")
    if store:
        g.add_argument("--store-dir", metavar="DIR",
                       help="parameter store folder (default $PBUFJAX_STORE_DIR or ./optimization_results)")
    if data:
        g.add_argument("--data-dir", metavar="DIR",
                       help="folder with the release data files (default $PBUFJAX_DATA_DIR, then the user cache)")
    if json_out:
        g.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress indicator")
    g.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    g.add_argument("--debug", action="store_true", help="show the full traceback on errors")


def add_problem(p: argparse.ArgumentParser, *, datasets_help: str, free: Sequence[str] | None = ("--optimize",
                "--params"), free_help: str = "parameters to optimize (others stay fixed)", cov_scale: bool = True,
                model_default: str = DEFAULT_MODEL, store_flag: bool = False) -> None:
    """The model-and-data vocabulary: model, datasets, free parameters, values, recombination.

    Args:
        p: the subcommand's parser.
        datasets_help: help of ``--datasets`` (states the default).
        free: spellings of the free-parameter option (None: the command has none).
        free_help: its help.
        cov_scale: add ``--cov-scale``.
        model_default: the default model named in the help.
        store_flag: add ``--no-precomputed`` (alias ``--no-store``).
    """
    g = p.add_argument_group("model and data")
    g.add_argument("--model", metavar="M", help=f"model name (default {model_default})")
    g.add_argument("--datasets", metavar="A,B", help=datasets_help)
    if free:
        g.add_argument(*free, dest="optimize", action=Once, normalize=name_list, metavar="P1,P2", help=free_help)
    if cov_scale:
        g.add_argument("--cov-scale", type=finite_float, metavar="F", help="scale every covariance by F > 0 (default 1)")
    if store_flag:
        g.add_argument("--no-precomputed", "--no-store", dest="no_precomputed", action="store_true", default=None,
                       help="ignore the stored optimized values")
    methods = recomb_methods()
    g.add_argument("--recomb-method", action=ParameterValue, parameter="recomb_method", choices=methods, metavar="M",
                   dest="param_values", help=f"recombination method: {', '.join(methods)} (= --set recomb_method=M)")
    add_user_files(p)  # --sn-file, --sn-cov, --bao-file, --bao-cov
    pv = p.add_argument_group("parameter values (starting values of optimized parameters, else fixed values)")
    pv.add_argument("--set", action=ParameterValue, dest="param_values", metavar="NAME=X",
                    help="set a parameter (repeatable); also --NAME X for every parameter listed below")
    for name in all_parameter_names():
        flags = [f"--{name}"] + ([f"--{name.replace('_', '-')}"] if "_" in name else [])
        pv.add_argument(*flags, action=ParameterValue, parameter=name, dest="param_values", type=finite_float,
                        metavar="X", help=argparse.SUPPRESS)


def add_optimizer(g, *, batch: bool = False) -> None:
    """``--optimizer NAME`` (alias ``--method``): a registered solver (a batch solver with ``batch``)."""
    what = "batch optimizer (default gauss_newton)" if batch else "optimization method (default minimize)"
    g.add_argument("--optimizer", "--method", dest="optimizer", action=Once, metavar="NAME", help=what)


def add_campaign(g) -> None:
    """``--resume``: continue the campaign folder of ``--output`` (:mod:`pbufjax.runtime.campaign`)."""
    g.add_argument("--resume", action="store_true",
                   help="continue the interrupted run of --output from its last completed chunk (same command; "
                        "results stream to OUTPUT's .campaign folder chunk by chunk)")


def add_distributed(p: argparse.ArgumentParser) -> None:
    """``--coordinator HOST:PORT --num-processes N --process-id I``, ``--distributed auto``, ``--distributed-timeout S``
    (:mod:`pbufjax.runtime.distributed`)."""
    g = p.add_argument_group("several processes (jax.distributed; one process per GPU or host)")
    g.add_argument("--coordinator", metavar="HOST:PORT", help="address of process 0's coordinator service")
    g.add_argument("--num-processes", type=count(1), metavar="N", help="number of cooperating processes (>= 1)")
    g.add_argument("--process-id", type=count(0), metavar="I", help="this process, 0..N-1")
    g.add_argument("--distributed", choices=("off", "auto"), default="off",
                   help="auto: take the layout from JAX's environment variables or the cluster (SLURM, MPI) "
                        "when the three flags above are absent (default off: one process)")
    g.add_argument("--distributed-timeout", type=finite_float, default=None, metavar="S",
                   help="seconds to wait for the coordinator and the other processes (default 120)")


def start_distributed(args) -> dict[str, int]:
    """Join the process layout of the ``add_distributed`` flags (before any JAX work).

    Raises:
        UsageError: a bad layout or an unreachable coordinator (exit code 2).
    """
    from ..runtime import distributed

    timeout = distributed.DEFAULT_TIMEOUT if args.distributed_timeout is None else args.distributed_timeout
    try:
        return distributed.initialize(args.coordinator, args.num_processes, args.process_id,
                                      auto=args.distributed == "auto", timeout=timeout)
    except distributed.DistributedError as exc:
        flags = str(exc).replace("num_processes", "--num-processes").replace("process_id", "--process-id")
        raise UsageError(flags.replace("coordinator,", "--coordinator,")) from None


# ---------------------------------------------------------------------------
# resolution (after parsing)


def check_model(model: str | None) -> str:
    """A registered model name (``None`` -> the default model).

    Raises:
        UsageError: unknown model, listing the valid ones.
    """
    from ..cosmology import parameters as parameter

    model = model or DEFAULT_MODEL
    valid = parameter.available_models()
    if model not in valid:
        raise UsageError(f"unknown model {model!r}; valid models: {', '.join(valid)}")
    return model


def check_datasets(names: Sequence[str]) -> list[str]:
    """The names as given, each known and none listed twice (also not under an alias); a
    combination (``sdss_legacy``) is replaced by its member datasets.

    Raises:
        UsageError: unknown dataset (listing the valid ones) or a duplicate.
    """
    from .. import data as dsmod

    seen: dict[str, str] = {}
    out: list[str] = []
    for name in names:
        try:
            pairs = dsmod.dataset_name_pairs([name])
        except KeyError as exc:
            raise UsageError(message(exc)) from None
        for given, canonical in pairs:
            if canonical in seen:
                raise UsageError(f"dataset {given!r} is listed twice (as {seen[canonical]!r} and {name!r} -> "
                                 f"{canonical})")
            seen[canonical] = name
            out.append(given)
    return out


def datasets_arg(args, default: Sequence[str] | None = None, *, configured: Sequence[str] | None = None) -> list[str]:
    """``--datasets`` checked (else ``configured``, the configuration file's, else ``default``); a
    :class:`UsageError` listing the valid ones if none.

    The user files (``--sn-file``, ``--bao-file``: :mod:`.user_files`) are registered and added
    to the list; given without ``--datasets`` or ``configured``, they replace ``default``.
    """
    user = user_file_datasets(args)
    names = name_list(args.datasets) or (list(configured) if configured else None) or (
        list(default) if default and not user else None)
    if not names and user:
        return check_datasets(user)
    if not names:
        from .. import data as dsmod

        raise UsageError(f"no datasets given; pass --datasets NAME[,NAME...] (valid: {', '.join(dsmod.list_datasets())}"
                         f"; aliases: {', '.join(dsmod.ALIASES)})")
    return check_datasets(names + user)


def free_params(args, *, required: bool = False) -> list[str] | None:
    """The free parameters (``--optimize`` or an alias), or None when not given."""
    names = name_list(getattr(args, "optimize", None))
    if required and not names:
        raise UsageError("no free parameters given; pass --optimize P1,P2 (also --params)")
    return names


def parameter_values(args, model: str, datasets: Sequence[str] = (), *, also: Sequence[str] = ()) -> dict[str, Any]:
    """Parameter values from ``--NAME X``, ``--set NAME=X`` and ``--recomb-method``, checked against ``model``.

    Args:
        args: the parsed command line.
        model: the model the values are for.
        datasets: their nuisance parameters are valid names too.
        also: further models whose parameters are valid (``mocks --compare``).

    Raises:
        UsageError: a name that is neither a parameter of ``model`` (or of ``also``), a nuisance
            parameter of ``datasets`` nor ``recomb_method`` (lists the valid ones).
    """
    given: Mapping[str, tuple[str, str, Any]] = getattr(args, "param_values", None) or {}
    valid = model_parameters(model)
    for other in also:
        valid += [k for k in model_parameters(other) if k not in valid]
    valid += nuisance_names(datasets) + ["recomb_method"]
    for name, (flag, _, _) in given.items():
        if name not in valid:
            where = f"--set: {name!r} is" if flag == "--set" else f"{flag}:"
            raise UsageError(f"{where} not a parameter of model {model!r}; valid parameters: {', '.join(valid)}")
    return {name: value for name, (_, _, value) in given.items()}


def cov_scale(args) -> float:
    """``--cov-scale`` checked against the configuration range (1.0 when not given)."""
    from .config import COV_SCALE_RANGE, check_number

    value = getattr(args, "cov_scale", None)
    return 1.0 if value is None else check_number(value, "--cov-scale", *COV_SCALE_RANGE)


def data_dir(args) -> Path | None:
    """``--data-dir`` as an absolute folder (None when not given).

    Raises:
        UsageError: the folder does not exist.
    """
    folder = getattr(args, "data_dir", None)
    if not folder:
        return None
    if not Path(folder).is_dir():
        raise UsageError(f"--data-dir {folder} is not a directory")
    return Path(folder).resolve()


def store(args):
    """The parameter store of ``--store-dir`` (else ``$PBUFJAX_STORE_DIR``, else ``./optimization_results``).

    The command is marked as one that uses the store (:func:`note_store`), so that
    :func:`pbufjax.cli.main` says where the store is when it ends.
    """
    from ..store import OptimizedParameterStore

    folder = getattr(args, "store_dir", None)
    if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
        raise UsageError(f"--store-dir {folder} exists and is not a directory")
    opened = OptimizedParameterStore(folder)
    note_store(args, opened.store_dir)
    return opened


def note_store(args, folder=None) -> Path:
    """Mark the command as one that reads or writes the parameter store in ``folder``.

    For commands that hand ``--store-dir`` to the library instead of opening the store
    through :func:`store` (``sample``). ``folder`` is resolved like the store's own
    (``None``: ``$PBUFJAX_STORE_DIR``, else ``./optimization_results``).

    Returns:
        The absolute store folder.
    """
    from ..store import resolve_store_dir

    path = resolve_store_dir(folder)
    args.store_used = path
    return path


def store_notice(args) -> str | None:
    """``"store: /abs/folder"`` for a command that used the parameter store (``None`` otherwise or with ``-q``).

    :func:`pbufjax.cli.main` prints it on stderr when the command ends (so ``--json``
    output on stdout stays machine-readable, and a usage error stays one line).
    """
    path = getattr(args, "store_used", None)
    if path is None or getattr(args, "quiet", False):
        return None
    return f"store: {path}"
