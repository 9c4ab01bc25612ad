"""The ``pbufjax`` command line (also ``python -m pbufjax``).

Commands::

    pbufjax fit        --model M --datasets a,b [...]   fit any list of datasets
    pbufjax fit-cmb    [...]                            CMB distance priors (cmb)
    pbufjax fit-bao    [...]                            BAO (bao)
    pbufjax fit-aniso  [...]                            anisotropic BAO (bao_ani)
    pbufjax fit-sn     [...]                            supernovae (sn)
    pbufjax fit-joint  [...]                            cmb,bao,sn unless --datasets
    pbufjax data       list | info NAME | fetch NAME | verify [NAME ...]
    pbufjax store      show | history | export | consistency | repair
    pbufjax integrity  --model M --datasets a,b         physics and covariance checks

Where each fit setting comes from, highest precedence first::

    command line  >  --config file  >  parameter store  >  model defaults

The store (``--store-dir``, else ``$PBUFJAX_STORE_DIR``, else
``./optimization_results``) supplies starting values: the stored optimized
defaults (unless ``--no-precomputed`` / ``use_precomputed: false``), then with
``--warm-start`` the values of successful optimizations younger than 24 hours. A
converged fit with ``--optimize`` stores its optimized values (unless
``--dry-run`` or ``save_results: false``), so later fits start from them.

Exit codes: 0 success; 1 a fit that did not converge (or a failed check); 2 bad
usage or input (one-line message naming the problem and the valid choices);
3 an unexpected internal error (``--debug`` shows the traceback).

Heavy modules (the engine, datasets, rich) are imported only by the commands
that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_NOT_CONVERGED = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

#: Fit subcommands -> (default datasets, one-line description).
FIT_COMMANDS: dict[str, tuple[list[str] | None, str]] = {
    "fit": (None, "fit a model to any list of datasets (--datasets required)"),
    "fit-cmb": (["cmb"], "fit the CMB distance priors (dataset 'cmb' unless --datasets)"),
    "fit-bao": (["bao"], "fit BAO distances (dataset 'bao' unless --datasets)"),
    "fit-aniso": (["bao_ani"], "fit anisotropic BAO (dataset 'bao_ani' unless --datasets)"),
    "fit-sn": (["sn"], "fit SN Ia distance moduli (dataset 'sn' unless --datasets)"),
    "fit-joint": (["cmb", "bao", "sn"], "joint fit (datasets 'cmb,bao,sn' unless --datasets)"),
}
DEFAULT_MODEL = "lcdm"
#: optimizer -> its option that receives ``--tol`` / ``convergence_tolerance``.
TOLERANCE_OPTION = {"minimize": "ftol", "lbfgs": "ftol", "multistart": "ftol", "differential_evolution": "tol",
                    "newton": "ftol", "gauss_newton": "ftol"}
OPTIMIZER_CHOICES_FALLBACK = ("minimize", "lbfgs", "differential_evolution", "basinhopping", "multistart")

logger = logging.getLogger("pbufjax.cli")


class UsageError(Exception):
    """Bad usage or input: reported as one line, exit code 2."""


# ---------------------------------------------------------------------------
# argument parsing


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one-line :class:`UsageError` and whose epilog is computed lazily."""

    def __init__(self, *args, lazy_epilog: Callable[[], str] | None = None, **kwargs):
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
            except Exception as exc:  # help must never fail
                self.epilog = f"(could not list models and datasets: {exc})"
        return super().format_help()


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid number {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _name_list(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [s.strip() for s in text.split(",")]
    if not text.strip() or any(not s for s in names):
        raise UsageError(f"empty name in the list {text!r}; give names separated by commas (e.g. H0,Om0)")
    return names


def _all_parameter_names() -> list[str]:
    """Numeric parameters of every known model (for the ``--NAME VALUE`` flags)."""
    from . import parameter

    names: list[str] = []
    for model in parameter.available_models():
        for key in parameter.get_defaults(model):
            if key not in parameter.STATIC_PARAMS and key not in parameter.DERIVED_PARAMS and key not in names:
                names.append(key)
    return names


def _models_epilog() -> str:
    from . import parameter

    lines = ["models (parameters; optimizable marked *):"]
    for model in parameter.available_models():
        opt = set(parameter.optimizable_parameters(model))
        params = [k for k in parameter.get_defaults(model) if k not in parameter.STATIC_PARAMS]
        lines.append(f"  {model:9s} " + ", ".join(p + ("*" if p in opt else "") for p in params))
    return "\n".join(lines)


def _datasets_epilog() -> str:
    try:
        from . import datasets
    except ImportError:  # pragma: no cover - datasets module missing
        return "datasets: (unavailable)"
    aliases = ", ".join(f"{a} -> {c}" for a, c in datasets.ALIASES.items())
    return f"datasets: {', '.join(datasets.list_datasets())}\n  aliases: {aliases}"


def _optimizer_names() -> list[str]:
    try:
        from . import optimizer

        return sorted(optimizer.OPTIMIZERS)
    except (ImportError, AttributeError):
        return list(OPTIMIZER_CHOICES_FALLBACK)


def _fit_epilog() -> str:
    return "\n\n".join(
        [
            _models_epilog(),
            _datasets_epilog(),
            f"optimizers: {', '.join(_optimizer_names())}",
            "precedence of settings: command line > --config file > parameter store > model defaults",
            "exit codes: 0 converged, 1 did not converge, 2 bad usage or input, 3 internal error",
        ]
    )


def _add_common(p: argparse.ArgumentParser, *, store=True, data=True, json_out=True) -> None:
    g = p.add_argument_group("general")
    if store:
        g.add_argument(
            "--store-dir",
            metavar="DIR",
            help="parameter store folder (default $PBUFJAX_STORE_DIR or ./optimization_results)",
        )
    if data:
        g.add_argument(
            "--data-dir",
            metavar="DIR",
            help="folder with the release data files (default $PBUFJAX_DATA_DIR, then the user cache)",
        )
    if json_out:
        g.add_argument("--json", action="store_true", help="print the result as JSON instead of a table")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress indicator")
    g.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    g.add_argument("--debug", action="store_true", help="show the full traceback on errors")


def _add_fit_arguments(p: argparse.ArgumentParser, default_datasets: list[str] | None) -> None:
    g = p.add_argument_group("fit")
    g.add_argument("--model", metavar="M", help=f"model name (default: config file, else {DEFAULT_MODEL})")
    dflt = ",".join(default_datasets) if default_datasets else "none: required unless the config file names them"
    g.add_argument("--datasets", metavar="A,B", help=f"comma-separated datasets or aliases (default: {dflt})")
    g.add_argument(
        "--mode", choices=("joint", "individual"), help="joint fit, or each dataset on its own (default joint)"
    )
    g.add_argument("--optimize", metavar="P1,P2", help="parameters to optimize (others stay fixed)")
    g.add_argument("--freeze", metavar="P1,P2", help="parameters kept fixed even if listed in --optimize")
    g.add_argument("--optimizer", metavar="NAME", help="optimization method (default minimize)")
    g.add_argument("--tol", type=_finite_float, metavar="F", help="convergence tolerance (0 < F < 1)")
    g.add_argument("--maxiter", type=_positive_int, metavar="N", help="maximum optimizer iterations")
    g.add_argument("--cov-scale", type=_finite_float, metavar="F", help="scale every covariance by F > 0 (default 1)")
    g.add_argument("--dry-run", action="store_true", default=None, help="optimize but do not update the store")
    g.add_argument("--warm-start", action="store_true", default=None, help="start from optimizations of the last 24 h")
    g.add_argument("--no-precomputed", action="store_true", default=None, help="ignore the stored optimized defaults")
    g.add_argument("--no-save", action="store_true", default=None, help="do not store the optimized values")
    g.add_argument("--config", metavar="FILE", help="JSON run configuration (see documents/cli_and_store.md)")
    g.add_argument("--output", metavar="FILE", help="write the full results as JSON to FILE")
    g.add_argument(
        "--fetch", action="store_true", help="download missing release files first (network; sha256 checked)"
    )
    pv = p.add_argument_group("parameter values (starting values for optimized parameters)")
    for name in _all_parameter_names():
        flags = [f"--{name}"]
        if "_" in name:
            flags.append(f"--{name.replace('_', '-')}")
        pv.add_argument(*flags, dest=f"param__{name}", type=_finite_float, metavar="X", help=argparse.SUPPRESS)
    pv.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=X",
        help="set a parameter (repeatable); also --NAME X for every parameter listed below",
    )


def build_parser() -> argparse.ArgumentParser:
    """The ``pbufjax`` argument parser."""
    from . import __version__

    top_epilog = (
        "Run 'pbufjax COMMAND --help' for the options of a command.\n"
        "Precedence of settings: command line > --config file > parameter store > model defaults.\n"
        "Exit codes: 0 success, 1 not converged / check failed, 2 bad usage or input, 3 internal error."
    )
    parser = _Parser(
        prog="pbufjax",
        description="Differentiable background-cosmology fits (ΛCDM, wCDM, w0waCDM, PBUF) to CMB priors, BAO and SN Ia.",
        lazy_epilog=lambda: "\n\n".join([_models_epilog(), _datasets_epilog(), top_epilog]),
    )
    parser.add_argument("-V", "--version", action="version", version=f"pbufjax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    for name, (dsets, help_text) in FIT_COMMANDS.items():
        p = sub.add_parser(
            name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".", lazy_epilog=_fit_epilog
        )
        _add_fit_arguments(p, dsets)
        _add_common(p)
        p.set_defaults(handler=cmd_fit, default_datasets=dsets)

    # data
    pdata = sub.add_parser(
        "data",
        help="list, describe, fetch and verify the release data files",
        description="Release data files: where each is, hash checks, downloads.",
        lazy_epilog=_datasets_epilog,
    )
    dsub = pdata.add_subparsers(dest="data_command", metavar="ACTION", parser_class=_Parser)
    dsub.required = True
    p = dsub.add_parser(
        "list", help="every dataset, its aliases and whether its files are present", lazy_epilog=_datasets_epilog
    )
    _add_common(p, store=False)
    p.set_defaults(handler=cmd_data_list)
    p = dsub.add_parser(
        "info", help="metadata, file locations and the fetch command of one dataset", lazy_epilog=_datasets_epilog
    )
    p.add_argument("name", metavar="NAME", help="dataset name or alias")
    _add_common(p, store=False)
    p.set_defaults(handler=cmd_data_info)
    p = dsub.add_parser(
        "fetch",
        help="download a dataset's release files and check their sha256 (needs network)",
        lazy_epilog=_datasets_epilog,
    )
    p.add_argument("name", metavar="NAME", help="dataset name or alias")
    p.add_argument("--force", action="store_true", help="download even when a verified copy exists")
    _add_common(p, store=False)
    p.set_defaults(handler=cmd_data_fetch)
    p = dsub.add_parser(
        "verify", help="check every present release file against its published sha256", lazy_epilog=_datasets_epilog
    )
    p.add_argument("names", nargs="*", metavar="NAME", help="datasets to check (default: all)")
    _add_common(p, store=False)
    p.set_defaults(handler=cmd_data_verify)

    # store
    pstore = sub.add_parser(
        "store",
        help="inspect, export and repair the optimized-parameter store",
        description="The optimized-parameter store (--store-dir, else $PBUFJAX_STORE_DIR, else ./optimization_results).",
        lazy_epilog=_models_epilog,
    )
    ssub = pstore.add_subparsers(dest="store_command", metavar="ACTION", parser_class=_Parser)
    ssub.required = True
    p = ssub.add_parser("show", help="stored optimized values per model", lazy_epilog=_models_epilog)
    p.add_argument("--model", metavar="M", help="only this model")
    _add_common(p, data=False)
    p.set_defaults(handler=cmd_store_show)
    p = ssub.add_parser("history", help="optimization records, oldest first", lazy_epilog=_models_epilog)
    p.add_argument("--model", metavar="M", help="only this model")
    p.add_argument("--limit", type=_positive_int, metavar="N", help="only the last N records")
    _add_common(p, data=False)
    p.set_defaults(handler=cmd_store_history)
    p = ssub.add_parser("export", help="write the optimization summary JSON")
    p.add_argument(
        "--output", metavar="FILE", default=None, help="destination (default reports/optimization_summary.json)"
    )
    _add_common(p, data=False)
    p.set_defaults(handler=cmd_store_export)
    p = ssub.add_parser(
        "consistency",
        help="divergence of the shared parameters (H0, Om0, Obh2, ns) across models",
        lazy_epilog=_models_epilog,
    )
    p.add_argument("--models", metavar="A,B", help="models to compare (default lcdm, pbuf and every stored model)")
    _add_common(p, data=False)
    p.set_defaults(handler=cmd_store_consistency)
    p = ssub.add_parser("repair", help="move corrupt store files aside as backups and rebuild from the history")
    _add_common(p, data=False)
    p.set_defaults(handler=cmd_store_repair)

    # integrity
    p = sub.add_parser(
        "integrity",
        help="physics consistency and covariance checks at a parameter point",
        description="Run the integrity suite (H(z) against closed forms, recombination, covariances, overlapping surveys).",
        lazy_epilog=lambda: _models_epilog() + "\n\n" + _datasets_epilog(),
    )
    p.add_argument("--model", metavar="M", help=f"model name (default {DEFAULT_MODEL})")
    p.add_argument(
        "--datasets",
        metavar="A,B",
        default="cmb,bao,sn",
        help="datasets whose covariances are checked (default cmb,bao,sn)",
    )
    p.add_argument("--no-precomputed", action="store_true", help="use the model defaults, not the stored values")
    p.add_argument("--set", action="append", default=[], metavar="NAME=X", help="set a parameter (repeatable)")
    _add_common(p)
    p.set_defaults(handler=cmd_integrity)

    from . import cli_sampling  # sample, mocks, profile, plot

    cli_sampling.register(sub)
    return parser


# ---------------------------------------------------------------------------
# output helpers


def jsonable(obj: Any) -> Any:
    """Plain-JSON version of a results structure (arrays -> lists, non-finite -> "inf"/"nan")."""
    import numpy as np

    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, int) and not isinstance(obj, bool):
        return obj
    if isinstance(obj, (float, np.floating, np.integer)):
        f = float(obj)
        if isinstance(obj, np.integer):
            return int(obj)
        return f if math.isfinite(f) else ("nan" if math.isnan(f) else ("inf" if f > 0 else "-inf"))
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "__array__"):
        arr = np.asarray(obj)
        if arr.dtype.kind in "biuf":
            return jsonable(arr.item() if arr.ndim == 0 else arr.tolist())
        return jsonable(arr.tolist())
    if hasattr(obj, "_asdict"):
        return jsonable(obj._asdict())
    return str(obj)


def _dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False)


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Plain-text table with aligned columns (numbers right-aligned)."""
    rows = [[_cell(v) for v in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, v in enumerate(r):
            widths[i] = max(widths[i], len(v))

    def line(cells, numeric):
        return "  ".join(c.rjust(w) if num else c.ljust(w) for c, w, num in zip(cells, widths, numeric)).rstrip()

    numeric_cols = [all(_looks_numeric(r[i]) for r in rows) and rows != [] for i in range(len(headers))]
    out = [line(headers, numeric_cols), "  ".join("-" * w for w in widths)]
    out += [line(r, numeric_cols) for r in rows]
    return "\n".join(out)


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|[-+]?inf|nan|-|", text))


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return _fmt(v)
    return str(v)


def _fmt(x: Any, digits: int = 6) -> str:
    try:
        f = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(f):
        return str(f)
    return f"{f:.{digits}g}"


@contextlib.contextmanager
def _progress(message: str, enabled: bool):
    """A spinner with elapsed time on stderr while a long step runs (terminals only)."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as prog:
        prog.add_task(message, total=None)
        yield


@contextlib.contextmanager
def _quiet_loggers(names: Sequence[str]):
    """Raise the given loggers to ERROR for the duration of the block."""
    saved = {n: logging.getLogger(n).level for n in names}
    for n in names:
        logging.getLogger(n).setLevel(logging.ERROR)
    try:
        yield
    finally:
        for n, level in saved.items():
            logging.getLogger(n).setLevel(level)


def _emit(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")


def _write_output(path: str, obj: Any) -> Path:
    from .parameter_store import atomic_write_json

    try:
        return atomic_write_json(path, jsonable(obj))
    except OSError as exc:
        raise UsageError(f"cannot write --output file {path}: {exc.strerror or exc}") from None


def _check_output_path(path: str | None) -> None:
    if path is None:
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"--output {path} is a directory; give a file name (e.g. {p / 'results.json'})")
    parent = p.parent if str(p.parent) else Path(".")
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"--output {path}: {existing} is not a directory")
    if not os.access(existing, os.W_OK):
        raise UsageError(f"--output {path}: folder {existing} is not writable")


# ---------------------------------------------------------------------------
# validation helpers shared by the commands


def _check_model(model: str) -> str:
    from . import parameter

    valid = parameter.available_models()
    if model not in valid:
        raise UsageError(f"unknown model {model!r}; valid models: {', '.join(valid)}")
    return model


def _check_datasets(names: Sequence[str]) -> list[str]:
    from . import datasets

    seen: dict[str, str] = {}
    for name in names:
        try:
            canonical = datasets.resolve_name(name)
        except KeyError as exc:
            raise UsageError(_message(exc)) from None
        if canonical in seen:
            raise UsageError(f"dataset {name!r} is listed twice (as {seen[canonical]!r} and {name!r} -> {canonical})")
        seen[canonical] = name
    return list(names)


def _fetch_missing(names: Sequence[str]) -> None:
    """Download the release files of ``names`` that are in none of the searched folders."""
    from . import data_registry, datasets

    for name in names:
        canonical = datasets.resolve_name(name)
        try:
            missing = [rel for rel, path in data_registry.status(canonical).items() if path is None]
        except KeyError:  # embedded dataset
            continue
        if missing:
            logger.warning("fetching %s (%s)", canonical, ", ".join(missing))
            data_registry.fetch(canonical, progressbar=sys.stderr.isatty())


def _preload_datasets(names: Sequence[str]) -> None:
    """Load (and cache) every dataset now, so a missing or corrupt file is reported before any fit."""
    from . import datasets

    for name in names:
        datasets.load_dataset(name)


def _model_parameters(model: str) -> list[str]:
    from . import parameter

    return [k for k in parameter.get_defaults(model) if k not in parameter.STATIC_PARAMS]


def _parse_set(items: Sequence[str], model: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--set {item!r}: expected NAME=VALUE (e.g. --set H0=70)")
        try:
            out[name] = _finite_float(value.strip())
        except argparse.ArgumentTypeError as exc:
            raise UsageError(f"--set {item!r}: {exc}") from None
    _check_param_names(out, model, "--set")
    return out


def _check_param_names(values: Mapping[str, Any], model: str, what: str) -> None:
    valid = _model_parameters(model)
    for name in values:
        if name not in valid:
            raise UsageError(
                f"{what}: {name!r} is not a parameter of model {model!r}; valid parameters: {', '.join(valid)}"
            )


def _cli_overrides(args, model: str) -> dict[str, float]:
    given = {k[len("param__") :]: v for k, v in vars(args).items() if k.startswith("param__") and v is not None}
    for name in given:
        if name not in _model_parameters(model):
            raise UsageError(
                f"--{name}: not a parameter of model {model!r}; valid parameters: {', '.join(_model_parameters(model))}"
            )
    given.update(_parse_set(args.set, model))
    return given


def _message(exc: BaseException) -> str:
    """One line: the exception's message with newlines folded."""
    if isinstance(exc, KeyError) and len(exc.args) == 1 and isinstance(exc.args[0], str):
        text = exc.args[0]
    else:
        text = str(exc) or type(exc).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " ".join(lines)


def _set_data_dir(args) -> None:
    if getattr(args, "data_dir", None):
        if not Path(args.data_dir).is_dir():
            raise UsageError(f"--data-dir {args.data_dir} is not a directory")
        os.environ["PBUFJAX_DATA_DIR"] = str(Path(args.data_dir).resolve())


def _store(args):
    from .parameter_store import OptimizedParameterStore

    store_dir = getattr(args, "store_dir", None)
    if store_dir is not None and Path(store_dir).exists() and not Path(store_dir).is_dir():
        raise UsageError(f"--store-dir {store_dir} exists and is not a directory")
    return OptimizedParameterStore(store_dir)


# ---------------------------------------------------------------------------
# fit


def resolve_fit_settings(args) -> dict[str, Any]:
    """Combine command line, config file, store and model defaults (in that precedence).

    Returns:
        dict with ``model, datasets, mode, optimize, frozen, overrides, sources,
        optimizer_config, covariance_scaling, options`` (the merged ``optimization`` block)
        and ``store``.

    Raises:
        UsageError, ConfigError, ValueError: bad input (exit code 2).
    """
    from . import config as cfgmod
    from . import parameter
    from .parameter_store import effective_optimize_list

    cfg = cfgmod.load_config(args.config) if args.config else cfgmod.validate_config({})
    model = _check_model(args.model or cfg["model"] or DEFAULT_MODEL)
    if args.config:
        cfgmod.check_model_parameters(cfg, model, args.config)

    datasets = _name_list(args.datasets) or cfg["datasets"] or args.default_datasets
    if not datasets:
        from . import datasets as dsmod

        raise UsageError(
            f"no datasets given; pass --datasets NAME[,NAME...] (valid: {', '.join(dsmod.list_datasets())}; "
            f"aliases: {', '.join(dsmod.ALIASES)})"
        )
    datasets = _check_datasets(datasets)
    if getattr(args, "fetch", False):
        _fetch_missing(datasets)
    _preload_datasets(datasets)
    mode = args.mode or cfg["mode"] or "joint"

    cli_opt = {
        "optimize_parameters": _name_list(args.optimize),
        "frozen_parameters": _name_list(args.freeze),
        "covariance_scaling": args.cov_scale,
        "convergence_tolerance": args.tol,
        "dry_run": args.dry_run,
        "warm_start": args.warm_start,
        "use_precomputed": False if args.no_precomputed else None,
        "save_results": False if args.no_save else None,
    }
    if args.cov_scale is not None:
        cfgmod.check_number(args.cov_scale, "--cov-scale", *cfgmod.COV_SCALE_RANGE)
    if args.tol is not None:
        cfgmod.check_number(args.tol, "--tol", *cfgmod.TOLERANCE_RANGE, hi_open=True)
    opt = cfgmod.merge_settings(cfgmod.OPTIMIZATION_DEFAULTS, cfg["optimization"], cli_opt)

    try:
        optimize = parameter.validate_free_params(model, opt["optimize_parameters"])
    except ValueError as exc:
        raise UsageError(f"--optimize: {_message(exc)}") from None
    _check_param_names({p: 0 for p in opt["frozen_parameters"]}, model, "--freeze")
    free = effective_optimize_list(optimize, opt["frozen_parameters"])
    if optimize and not free:
        logger.warning("every parameter in --optimize is frozen; evaluating at fixed values")

    store = _store(args)
    valid = set(_model_parameters(model))
    layers = []
    if opt["use_precomputed"]:
        layers.append(("store", {k: v for k, v in store.get_stored_parameters(model).items() if k in valid}))
    if opt["warm_start"]:
        warm = {k: v for k, v in store.get_warm_start(model).items() if k in valid}
        if not warm:
            logger.warning(
                "--warm-start: no successful %s optimization in the last 24 h; starting from %s",
                model,
                "the stored defaults" if opt["use_precomputed"] else "the model defaults",
            )
        layers.append(("warm start", warm))
    layers.append(("config", dict(cfg["parameter_overrides"])))
    layers.append(("command line", _cli_overrides(args, model)))
    overrides: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for label, layer in layers:
        for k, v in layer.items():
            overrides[k] = v
            sources[k] = label
    # physical consistency of the starting point, before anything is compiled
    parameter.build_params(model, overrides, derived=False)

    optimizer_config: dict[str, Any] = dict(cfg["optimizer"] or {})
    if args.optimizer:
        optimizer_config["method"] = args.optimizer
    if "method" in optimizer_config:
        names = _optimizer_names()
        if optimizer_config["method"] not in names:
            raise UsageError(f"unknown optimizer {optimizer_config['method']!r}; valid optimizers: {', '.join(names)}")
    options = dict(optimizer_config.get("options") or {})
    if opt.get("convergence_tolerance") is not None:
        method = optimizer_config.get("method", "minimize")
        key = TOLERANCE_OPTION.get(method)
        if key is None:
            logger.warning("convergence_tolerance is not used by the %r optimizer; set its options instead", method)
        else:
            options.setdefault(key, opt["convergence_tolerance"])
    if args.maxiter is not None:
        options["maxiter"] = args.maxiter
    if options:
        optimizer_config["options"] = options
    if opt["covariance_scaling"] != 1.0:
        optimizer_config["covariance_scaling"] = opt["covariance_scaling"]
    _check_output_path(args.output)
    return {
        "model": model,
        "datasets": datasets,
        "mode": mode,
        "optimize": free,
        "frozen": list(opt["frozen_parameters"]),
        "overrides": overrides,
        "sources": sources,
        "optimizer_config": optimizer_config,
        "covariance_scaling": opt["covariance_scaling"],
        "options": opt,
        "store": store,
    }


def _convergence(result: Mapping[str, Any]) -> str | None:
    """Convergence status of a results dict (None when nothing was optimized)."""
    for key in ("optimization", "optimization_metadata", "optimizer"):
        block = result.get(key)
        if isinstance(block, Mapping) and isinstance(block.get("convergence_status"), str):
            return block["convergence_status"]
    if isinstance(result.get("convergence_status"), str):
        return result["convergence_status"]
    return None


def _opt_block(result: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("optimization", "optimization_metadata", "optimizer"):
        block = result.get(key)
        if isinstance(block, Mapping):
            return block
    return {}


def run_fit_command(settings: Mapping[str, Any], progress: bool = True) -> dict[str, Any]:
    """Run the fit described by :func:`resolve_fit_settings` and return the ResultsDict."""
    from . import engine

    free = settings["optimize"]
    what = f"{'optimizing ' + ','.join(free) if free else 'evaluating'} {settings['model']} on {','.join(settings['datasets'])}"
    t0 = time.perf_counter()
    with _progress(what, progress):
        result = engine.run_fit(
            settings["model"],
            list(settings["datasets"]),
            mode=settings["mode"],
            overrides=dict(settings["overrides"]) or None,
            optimizer_config=dict(settings["optimizer_config"]) or None,
            optimization_params=list(free) or None,
        )
    logger.info("%s took %.2f s", what, time.perf_counter() - t0)
    return dict(result)


def _store_result(settings: Mapping[str, Any], result: Mapping[str, Any], status: str | None) -> dict[str, Any]:
    """Store optimized values when allowed; return what happened (for the report)."""
    from .parameter_store import utc_now

    free = settings["optimize"]
    opt = settings["options"]
    store = settings["store"]
    info: dict[str, Any] = {"store_dir": str(store.store_dir), "stored": False}
    if not free:
        info["reason"] = "nothing optimized"
        return info
    if settings["mode"] != "joint":
        info["reason"] = "individual mode: per-dataset values are not stored"
        return info
    if status != "success":
        info["reason"] = f"not converged ({status})"
        return info
    if not opt["save_results"]:
        info["reason"] = "save_results is false"
        return info
    params = result.get("params", {})
    values = {p: float(params[p]) for p in free}
    block = _opt_block(result)
    metrics = result.get("metrics", {})
    meta = {
        "timestamp": utc_now(),
        "datasets": list(settings["datasets"]),
        "chi2_improvement": block.get("chi2_improvement"),
        "convergence_status": status,
        "final_chi2": metrics.get("total_chi2"),
        "mode": settings["mode"],
        "optimizer": settings["optimizer_config"].get("method", block.get("method", "minimize")),
        "covariance_scaling": settings["covariance_scaling"],
        "frozen_parameters": settings["frozen"],
        "starting_values": {p: settings["overrides"].get(p) for p in free},
        "source": "pbufjax command line",
    }
    meta = {k: v for k, v in meta.items() if v is not None}
    record = store.update_model_defaults(settings["model"], values, meta, dry_run=bool(opt["dry_run"]))
    info.update(stored=not opt["dry_run"], dry_run=bool(opt["dry_run"]), values=values, record_id=record["record_id"])
    if opt["dry_run"]:
        info["reason"] = "dry run"
    return info


def _fit_report(
    settings: Mapping[str, Any], result: Mapping[str, Any], status: str | None, stored: Mapping[str, Any]
) -> str:
    lines = [_results_table(result, settings), ""]
    if settings["sources"]:
        src = ", ".join(f"{k}={_fmt(v)} ({settings['sources'][k]})" for k, v in settings["overrides"].items())
        lines.append(f"starting values: {src}")
    if settings["optimize"]:
        state = {"success": "converged", None: "status unknown"}.get(status, f"DID NOT CONVERGE ({status})")
        lines.append(f"optimized {', '.join(settings['optimize'])}: {state}")
    else:
        lines.append("evaluated at fixed parameters (nothing optimized; use --optimize P1,P2 to fit)")
    if stored.get("stored"):
        lines.append(f"stored {', '.join(stored['values'])} as {settings['model']} defaults in {stored['store_dir']}")
    elif settings["optimize"]:
        lines.append(f"store not updated: {stored.get('reason', '')}")
    return "\n".join(lines)


def _results_table(result: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    try:
        from .logging_utils import format_results_table
    except ImportError:
        format_results_table = None
    if format_results_table is not None:
        try:
            return format_results_table(result)
        except Exception as exc:  # the plain table below still reports the fit
            logger.debug("format_results_table failed: %s", exc)
    params = result.get("params", {})
    sig = result.get("uncertainties", {}) or {}
    rows = []
    for name in _model_parameters(settings["model"]):
        if name in params:
            free = "free" if name in settings["optimize"] else "fixed"
            rows.append([name, _fmt(params[name]), _fmt(sig[name]) if name in sig else "-", free])
    out = [format_table(["parameter", "value", "±1σ", ""], rows), ""]
    blocks = result.get("results", {})
    out.append(
        format_table(["dataset", "χ²"], [[k, _fmt(v.get("chi2"))] for k, v in blocks.items() if isinstance(v, Mapping)])
    )
    m = result.get("metrics", {})
    keys = [k for k in ("total_chi2", "dof", "reduced_chi2", "p_value", "aic", "bic") if k in m]
    out.append("")
    out.append("  ".join(f"{k} = {_fmt(m[k])}" for k in keys))
    return "\n".join(out)


def cmd_fit(args) -> int:
    """``pbufjax fit`` and the ``fit-*`` commands."""
    _set_data_dir(args)
    settings = resolve_fit_settings(args)
    # in table mode the engine's warnings are printed with the table: do not log them twice
    quiet = () if (args.json or args.verbose) else ("pbufjax.engine", "pbufjax.statistics", "pbufjax.optimizer")
    with _quiet_loggers(quiet):
        result = run_fit_command(settings, progress=not args.quiet and not args.json)
    status = _convergence(result) if settings["optimize"] else None
    stored = _store_result(settings, result, status)
    result["run"] = {
        "command": args.command,
        "model": settings["model"],
        "datasets": settings["datasets"],
        "mode": settings["mode"],
        "optimized": settings["optimize"],
        "frozen": settings["frozen"],
        "starting_values": settings["overrides"],
        "starting_value_sources": settings["sources"],
        "optimizer_config": settings["optimizer_config"],
        "convergence_status": status,
        "store": stored,
    }
    if args.output:
        _write_output(args.output, result)
    if args.json:
        _emit(_dumps(result))
    else:
        _emit(_fit_report(settings, result, status, stored))
        if args.output:
            _emit(f"results written to {args.output}")
    if settings["optimize"] and status != "success":
        sys.stderr.write(f"pbufjax: the fit did not converge (status: {status}); the store was not updated\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


# ---------------------------------------------------------------------------
# data


def cmd_data_list(args) -> int:
    _set_data_dir(args)
    from . import datasets

    rows = []
    out = []
    for name in datasets.list_datasets():
        info = datasets.get_dataset_info(name)
        files = info.get("files", {})
        if not files:
            where = "embedded"
        elif info.get("available"):
            where = f"ok ({len(files)} files)"
        else:
            where = f"MISSING {len(info['missing'])} of {len(files)}: {info.get('fetch_command', '')}"
        aliases = ",".join(info.get("aliases", [])) or "-"
        rows.append([name, aliases, info.get("dataset_type", info.get("type", "-")), info.get("n_points"), where])
        out.append({"name": name, **info})
    if args.json:
        _emit(_dumps(out))
    else:
        _emit(format_table(["dataset", "aliases", "type", "points", "files"], rows))
    return EXIT_OK


def cmd_data_info(args) -> int:
    _set_data_dir(args)
    from . import data_registry, datasets

    info = datasets.get_dataset_info(args.name)
    if args.json:
        _emit(_dumps(info))
        return EXIT_OK
    lines = []
    for key, value in info.items():
        if key in ("files", "missing"):
            continue
        lines.append(f"{key:16s} {value if not isinstance(value, float) else _fmt(value)}")
    files = info.get("files", {})
    if files:
        lines.append("files:")
        for rel, path in files.items():
            lines.append(f"  {rel}: {path or 'MISSING'}")
        lines.append("searched: " + ", ".join(str(d) for d in data_registry.search_dirs()))
    else:
        lines.append("files:           embedded in the package (no download needed)")
    _emit("\n".join(lines))
    return EXIT_OK


def cmd_data_fetch(args) -> int:
    from . import data_registry

    paths = data_registry.fetch(
        args.name, data_dir=args.data_dir, force=args.force, progressbar=sys.stderr.isatty() and not args.quiet
    )
    if args.json:
        _emit(_dumps([str(p) for p in paths]))
    else:
        _emit("\n".join(f"ok  {p}" for p in paths))
    return EXIT_OK


def cmd_data_verify(args) -> int:
    _set_data_dir(args)
    from . import data_registry

    rels: list[str] = []
    if args.names:
        from . import datasets

        for name in args.names:
            canonical = datasets.resolve_name(name)
            try:
                rels += [r for r in data_registry.dataset_files(canonical) if r not in rels]
            except KeyError:
                continue  # embedded dataset: nothing to verify
    else:
        rels = list(data_registry.release_files())
    rows, out, bad = [], [], 0
    for rel in rels:
        entry = {"file": rel, "path": None, "status": "missing"}
        try:
            path = data_registry.resolve(rel)
            entry["path"] = str(path)
            try:
                entry["status"] = "ok" if data_registry.verify(rel, path) else "no published hash"
            except data_registry.DataFileHashError as exc:
                entry["status"] = "HASH MISMATCH"
                entry["error"] = _message(exc)
                bad += 1
        except data_registry.DataFileNotFoundError:
            users = [n for n, fs in data_registry.registry()["datasets"].items() if rel in fs]
            entry["fetch_command"] = data_registry.fetch_command(users[0]) if users else None
        out.append(entry)
        rows.append([rel, entry["status"], entry["path"] or f"fetch: {entry.get('fetch_command')}"])
    if args.json:
        _emit(_dumps(out))
    else:
        _emit(format_table(["file", "status", "location"], rows))
        _emit("searched: " + ", ".join(str(d) for d in data_registry.search_dirs()))
    return EXIT_NOT_CONVERGED if bad else EXIT_OK


# ---------------------------------------------------------------------------
# store


def cmd_store_show(args) -> int:
    store = _store(args)
    models = [_check_model(args.model)] if args.model else store.stored_models()
    out = {}
    rows = []
    for m in models:
        params = store.get_model_defaults(m)
        meta = params.pop("optimization_metadata")
        stored = store.get_stored_parameters(m)
        out[m] = {
            "stored": stored,
            "defaults": params,
            "updated": meta.get("updated"),
            "provenance": meta.get("provenance", {}),
        }
        for name, value in stored.items():
            prov = meta.get("provenance", {}).get(name, {})
            rows.append([m, name, _fmt(value), prov.get("dataset"), prov.get("timestamp")])
    if args.json:
        _emit(_dumps({"store_dir": str(store.store_dir), "models": out}))
    elif not rows:
        _emit(f"no optimized values stored in {store.store_dir}")
    else:
        _emit(f"store: {store.store_dir}")
        _emit(format_table(["model", "parameter", "value", "dataset", "optimized at"], rows))
    return EXIT_OK


def cmd_store_history(args) -> int:
    store = _store(args)
    if args.model:
        _check_model(args.model)
    recs = store.get_optimization_history(args.model)
    if args.limit:
        recs = recs[-args.limit :]
    if args.json:
        _emit(_dumps(recs))
    elif not recs:
        _emit(f"no optimization records in {store.store_dir}")
    else:
        rows = [
            [
                r["timestamp"],
                r["model"],
                r["dataset"],
                ",".join(r["optimized_params"]),
                " ".join(f"{k}={_fmt(v)}" for k, v in r["final_values"].items()),
                _fmt(r["chi2_improvement"]) if r["chi2_improvement"] is not None else "-",
                r["convergence_status"],
            ]
            for r in recs
        ]
        _emit(format_table(["timestamp", "model", "dataset", "optimized", "values", "Δχ²", "status"], rows))
    return EXIT_OK


def cmd_store_export(args) -> int:
    from .parameter_store import DEFAULT_SUMMARY_PATH

    store = _store(args)
    target = args.output or DEFAULT_SUMMARY_PATH
    _check_output_path(target)
    path = store.export_optimization_summary(target)
    if args.json:
        _emit(_dumps({"written": str(path)}))
    else:
        _emit(f"optimization summary written to {path}")
    return EXIT_OK


def cmd_store_consistency(args) -> int:
    from .parameter_store import CONSISTENCY_TOLERANCE

    store = _store(args)
    models = _name_list(args.models)
    if models is not None:
        for m in models:
            _check_model(m)
        if len(models) < 2:
            raise UsageError("--models: name at least two models to compare")
    report = store.cross_model_report(models)
    if args.json:
        _emit(_dumps(report))
        return EXIT_OK
    names = list(next(iter(report.values()))["values"]) if report else []
    rows = [
        [
            p,
            *[_fmt(e["values"].get(m)) for m in names],
            f"{100 * e['divergence']:.3g}%",
            "ok" if e["consistent"] else "DIVERGENT",
        ]
        for p, e in report.items()
    ]
    _emit(format_table(["parameter", *names, "divergence", f"(tolerance {100 * CONSISTENCY_TOLERANCE:g}%)"], rows))
    return EXIT_OK


def cmd_store_repair(args) -> int:
    store = _store(args)
    problems = store.check()
    report = store.repair()
    if args.json:
        _emit(_dumps({"problems": [_message(p) for p in problems], **report}))
        return EXIT_OK
    if not report["backups"]:
        _emit(f"store {store.store_dir} is healthy; nothing to repair")
        return EXIT_OK
    for b in report["backups"]:
        _emit(f"kept the corrupt file as {b}")
    for r in report["rebuilt"]:
        _emit(f"rebuilt {r}")
    if report["dropped_records"]:
        _emit(f"dropped {report['dropped_records']} invalid history record(s) (still in the backup)")
    return EXIT_OK


# ---------------------------------------------------------------------------
# integrity


def cmd_integrity(args) -> int:
    _set_data_dir(args)
    from . import parameter

    model = _check_model(args.model or DEFAULT_MODEL)
    datasets = _check_datasets(_name_list(args.datasets) or [])
    overrides = {} if args.no_precomputed else _store(args).get_stored_parameters(model)
    overrides.update(_parse_set(args.set, model))
    params = parameter.build_params(model, overrides)
    from . import integrity

    with _progress("running the integrity suite", not args.quiet and not args.json):
        report = integrity.run_integrity_suite(params, datasets)
    passed = _integrity_passed(report)
    if args.json:
        _emit(_dumps(report))
    else:
        _emit(_integrity_text(report))
    return EXIT_OK if passed else EXIT_NOT_CONVERGED


def _integrity_passed(report: Mapping[str, Any]) -> bool:
    for key in ("overall_status", "passed", "status", "ok"):
        if key in report:
            value = report[key]
            return value is True or (isinstance(value, str) and value.lower() in ("pass", "passed", "ok", "success"))
    return all((v.get("passed", True) if isinstance(v, Mapping) else (v is not False)) for v in report.values())


def _integrity_text(report: Mapping[str, Any]) -> str:
    """Readable table of :func:`pbufjax.integrity.run_integrity_suite`'s report."""

    def ok(v: Any) -> str:
        return "pass" if v is True else ("FAIL" if v is False else str(v))

    rows = []
    h = report.get("h_ratios")
    if isinstance(h, Mapping):
        rows.append(
            [
                "H(z) vs closed form",
                ok(h.get("passed")),
                f"max deviation {_fmt(h.get('max_deviation'))} (tolerance {_fmt(h.get('tolerance'))})",
            ]
        )
    rec = report.get("recombination")
    if isinstance(rec, Mapping):
        rows.append(
            [
                "recombination z*",
                ok(rec.get("passed")),
                f"z* = {_fmt(rec.get('z_star'))}, expected {_fmt(rec.get('expected'))} ± {_fmt(rec.get('tolerance'))}",
            ]
        )
    cov = report.get("covariance")
    if isinstance(cov, Mapping):
        for name, info in cov.items():
            if isinstance(info, Mapping):
                rows.append(
                    [
                        f"covariance {name}",
                        ok(info.get("passed")),
                        f"n = {info.get('n')}, min eigenvalue {_fmt(info.get('min_eigenvalue'))}, "
                        f"condition number {_fmt(info.get('condition_number'))}",
                    ]
                )
    known = {"h_ratios", "recombination", "covariance", "overlaps", "warnings", "passed", "config"}
    for name, value in report.items():
        if name not in known:
            status = value.get("passed", "") if isinstance(value, Mapping) else value
            rows.append([name, ok(status), ""])
    lines = [format_table(["check", "result", "detail"], rows)]
    for w in report.get("warnings") or []:
        lines.append(f"warning: {w}")
    lines.append(f"overall: {'pass' if _integrity_passed(report) else 'FAIL'}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------


@contextlib.contextmanager
def _session(args):
    """Logging to stderr for one command, undone afterwards (``main`` may run in-process)."""
    level = logging.WARNING
    verbose = getattr(args, "verbose", 0) or 0
    if verbose == 1:
        level = logging.INFO
    elif verbose >= 2 or getattr(args, "debug", False):
        level = logging.DEBUG
    pkg = logging.getLogger("pbufjax")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pbufjax: %(levelname)s: %(message)s"))
    saved = (pkg.level, pkg.propagate)
    saved_env = os.environ.get("PBUFJAX_DATA_DIR")
    pkg.addHandler(handler)
    pkg.setLevel(level)
    pkg.propagate = False
    jax_logger = logging.getLogger("jax")
    jax_level = jax_logger.level
    if level > logging.DEBUG:
        jax_logger.setLevel(logging.ERROR)  # e.g. "no GPU found" notices
    try:
        yield
    finally:
        jax_logger.setLevel(jax_level)
        pkg.removeHandler(handler)
        pkg.setLevel(saved[0])
        pkg.propagate = saved[1]
        if saved_env is None:
            os.environ.pop("PBUFJAX_DATA_DIR", None)
        else:
            os.environ["PBUFJAX_DATA_DIR"] = saved_env


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``pbufjax`` console script.

    Args:
        argv: arguments (default ``sys.argv[1:]``).

    Returns:
        The exit code: 0 success, 1 not converged / check failed, 2 bad usage or input,
        3 internal error.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        with _session(args):
            return int(args.handler(args))
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        sys.stderr.write("pbufjax: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the command line reports every error as one line
        if debug:
            import traceback

            traceback.print_exc()
        code, text = _classify(exc)
        sys.stderr.write(f"pbufjax: error: {text}\n")
        if code == EXIT_INTERNAL and not debug:
            sys.stderr.write("pbufjax: this is a bug; rerun with --debug for the traceback\n")
        return code


def _classify(exc: BaseException) -> tuple[int, str]:
    """Exit code and one-line message of an exception."""
    from .config import ConfigError

    try:
        from .parameter_store import StoreError
    except ImportError:  # pragma: no cover
        StoreError = ()  # type: ignore[assignment]
    if isinstance(exc, UsageError):
        return EXIT_USAGE, _message(exc)
    if isinstance(exc, (ConfigError, StoreError)):
        return EXIT_USAGE, _message(exc)
    if isinstance(
        exc,
        (ValueError, KeyError, TypeError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError),
    ):
        return EXIT_USAGE, _message(exc)
    if isinstance(exc, OSError):
        return EXIT_USAGE, _message(exc)
    return EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {_message(exc)}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
