"""``pbufjax fit`` and ``fit-cmb/-bao/-aniso/-sn/-joint``: settings, the fit, the store update, the report.

Where each fit setting comes from, highest precedence first::

    command line  >  --config file  >  parameter store  >  model defaults

The store supplies starting values: the stored optimized defaults (unless
``--no-precomputed``), then with ``--warm-start`` the values of successful optimizations
younger than 24 hours. A converged joint fit with ``--optimize`` stores its optimized
values (unless ``--dry-run`` or ``save_results: false``), except the parameters that ended
at a bound of the optimization box or that the data do not constrain: those are recorded in
the store's history, flagged with the reason, and the closing message names them.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from . import args as A
from . import config as cfgmod
from .output import (
    EXIT_NOT_CONVERGED,
    EXIT_OK,
    UsageError,
    check_output_path,
    dumps,
    emit,
    fmt,
    format_table,
    message,
    quiet_loggers,
    write_json,
)
from .output import progress as spinner

logger = logging.getLogger("pbufjax.cli")

#: Fit subcommands -> (default datasets, one-line description).
FIT_COMMANDS: dict[str, tuple[list[str] | None, str]] = {
    "fit": (None, "fit a model to any list of datasets (--datasets required)"),
    "fit-cmb": (["cmb"], "fit the CMB distance priors (dataset 'cmb' unless --datasets)"),
    "fit-bao": (["bao"], "fit BAO distances (dataset 'bao' unless --datasets)"),
    "fit-aniso": (["bao_ani"], "fit anisotropic BAO (dataset 'bao_ani' unless --datasets)"),
    "fit-sn": (["sn"], "fit SN Ia distance moduli (dataset 'sn' unless --datasets)"),
    "fit-joint": (["cmb", "bao", "sn"], "joint fit (datasets 'cmb,bao,sn' unless --datasets)"),
}


def tolerance_options() -> dict[str, str]:
    """Solver name -> the option that receives ``--tol`` / ``convergence_tolerance`` (solver registry)."""
    from ..fit.solvers import get_solver, solver_names

    return {n: get_solver(n).tolerance_option for n in solver_names() if get_solver(n).tolerance_option}


def _epilog() -> str:
    try:
        optimizers = ", ".join(A.optimizer_names())
    except Exception as exc:  # help must never fail  # noqa: BLE001
        optimizers = f"(unavailable: {exc})"
    return "\n\n".join([A.help_epilog(), f"optimizers: {optimizers}",
                        "precedence of settings: command line > --config file > parameter store > model defaults",
                        "exit codes: 0 converged, 1 did not converge, 2 bad usage or input, 3 internal error"])


def register(sub) -> None:
    """Add the fit subcommands to the top-level subparsers."""
    for name, (dsets, text) in FIT_COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".", lazy_epilog=_epilog)
        dflt = ",".join(dsets) if dsets else "none: required unless the config file names them"
        A.add_problem(p, datasets_help=f"comma-separated datasets or aliases (default: {dflt})", store_flag=True,
                      model_default=f"config file, else {A.DEFAULT_MODEL}")
        g = p.add_argument_group("fit")
        g.add_argument("--mode", choices=("joint", "individual"), help="joint fit, or each dataset on its own")
        g.add_argument("--freeze", metavar="P1,P2", help="parameters kept fixed even if listed in --optimize")
        A.add_optimizer(g)
        g.add_argument("--tol", type=A.finite_float, metavar="F", help="convergence tolerance (0 < F < 1)")
        g.add_argument("--maxiter", type=A.positive_int, metavar="N", help="maximum optimizer iterations")
        g.add_argument("--dry-run", action="store_true", default=None, help="optimize but do not update the store")
        g.add_argument("--warm-start", action="store_true", default=None,
                       help="start from optimizations of the last 24 h")
        g.add_argument("--no-save", action="store_true", default=None, help="do not store the optimized values")
        g.add_argument("--config", metavar="FILE", help="JSON run configuration (see documents/cli_and_store.md)")
        g.add_argument("--output", metavar="FILE", help="write the full results as JSON to FILE")
        g.add_argument("--fetch", action="store_true",
                       help="download missing release files first (network; sha256 checked)")
        A.add_general(p)
        p.set_defaults(handler=cmd_fit, default_datasets=dsets)


def _fetch_missing(names, data_dir) -> None:
    """Download the release files of ``names`` found in none of the searched folders."""
    from .. import data as datasets
    from ..data import catalog as data_registry

    for name in names:
        canonical = datasets.resolve_name(name)
        try:
            missing = [rel for rel, path in data_registry.status(canonical, data_dir).items() if path is None]
        except KeyError:  # embedded dataset
            continue
        if missing:
            logger.warning("fetching %s (%s)", canonical, ", ".join(missing))
            data_registry.fetch(canonical, data_dir, progressbar=sys.stderr.isatty())


def _optimizer_config(args, cfg, opt) -> dict[str, Any]:
    optimizer_config: dict[str, Any] = dict(cfg["optimizer"] or {})
    if args.optimizer:
        optimizer_config["method"] = args.optimizer
    if "method" in optimizer_config:
        names = A.optimizer_names()
        if optimizer_config["method"] not in names:
            raise UsageError(f"unknown optimizer {optimizer_config['method']!r}; valid optimizers: {', '.join(names)}")
    options = dict(optimizer_config.get("options") or {})
    if opt.get("convergence_tolerance") is not None:
        method = optimizer_config.get("method", "minimize")
        key = tolerance_options().get(method)
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
    return optimizer_config


def resolve_fit_settings(args) -> dict[str, Any]:
    """Combine command line, config file, store and model defaults (in that precedence).

    Returns:
        dict with ``model, datasets, mode, optimize, frozen, overrides, sources,
        optimizer_config, covariance_scaling, options`` (the merged ``optimization`` block),
        ``store`` and ``data_dir``.

    Raises:
        UsageError, ConfigError, ValueError: bad input (exit code 2).
    """
    from .. import data as dsmod
    from ..cosmology import parameters as parameter
    from ..store import effective_optimize_list

    data_dir = A.data_dir(args)
    cfg = cfgmod.load_config(args.config) if args.config else cfgmod.validate_config({})
    model = A.check_model(args.model or cfg["model"])
    if args.config:
        cfgmod.check_model_parameters(cfg, model, args.config)
    datasets = A.datasets_arg(args, args.default_datasets, configured=cfg["datasets"])
    if args.fetch:
        _fetch_missing(datasets, data_dir)
    for name in datasets:  # a missing or corrupt file is reported before anything is compiled
        dsmod.load_dataset(name, data_dir)
    cli_opt = {
        "optimize_parameters": A.free_params(args),
        "frozen_parameters": A.name_list(args.freeze),
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
    from ..fit import settings

    own = parameter.optimizable_parameters(model)
    nuisance = [k for k in settings.optimizable_names(model, datasets) if k not in own]  # M_B, hrd
    optimize = list(opt["optimize_parameters"] or [])
    try:  # the model's optimizable parameters and the datasets' nuisance parameters
        parameter.validate_free_params(model, [p for p in optimize if p not in nuisance])
    except ValueError as exc:
        also = f" (and the datasets' nuisance parameters {', '.join(nuisance)})" if nuisance else ""
        raise UsageError(f"--optimize: {message(exc)}{also}") from None
    dup = sorted({p for p in optimize if optimize.count(p) > 1})
    if dup:
        raise UsageError(f"--optimize: parameter {dup[0]!r} listed twice in the parameters to optimize")

    valid = A.model_parameters(model)
    try:
        settings.check_frozen_parameters(model, opt["frozen_parameters"], [dsmod.resolve_name(d) for d in datasets])
    except ValueError as exc:
        raise UsageError(f"--freeze: {message(exc)}") from None
    free = effective_optimize_list(optimize, opt["frozen_parameters"])
    if optimize and not free:
        logger.warning("every parameter in --optimize is frozen; evaluating at fixed values")

    store = A.store(args)
    layers = []
    if opt["use_precomputed"]:
        layers.append(("store", {k: v for k, v in store.get_stored_parameters(model).items() if k in valid}))
    if opt["warm_start"]:
        warm = {k: v for k, v in store.get_warm_start(model).items() if k in valid}
        if not warm:
            logger.warning("--warm-start: no successful %s optimization in the last 24 h; starting from %s", model,
                           "the stored defaults" if opt["use_precomputed"] else "the model defaults")
        layers.append(("warm start", warm))
    layers.append(("config", dict(cfg["parameter_overrides"])))
    layers.append(("command line", A.parameter_values(args, model, datasets)))
    overrides: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for label, layer in layers:
        for k, v in layer.items():
            overrides[k], sources[k] = v, label
    try:
        parameter.build_params(model, overrides, derived=False)  # physical consistency of the starting point
    except ValueError as exc:
        from_store = [k for k, label in sources.items() if label in ("store", "warm start")]
        if not from_store:
            raise
        raise UsageError(f"{message(exc)} (starting values {', '.join(from_store)} came from the parameter store "
                         f"{store.store_dir}; rerun with --no-precomputed, or set them on the command line)") from None
    optimizer_config = _optimizer_config(args, cfg, opt)
    check_output_path(args.output)
    return {"model": model, "datasets": datasets, "mode": args.mode or cfg["mode"] or "joint", "optimize": free,
            "frozen": list(opt["frozen_parameters"]), "overrides": overrides, "sources": sources,
            "optimizer_config": optimizer_config, "covariance_scaling": opt["covariance_scaling"], "options": opt,
            "store": store, "data_dir": data_dir}


def _opt_block(result: Mapping[str, Any]) -> Mapping[str, Any]:
    for key in ("optimization", "optimization_metadata", "optimizer"):
        block = result.get(key)
        if isinstance(block, Mapping):
            return block
    return {}


def _convergence(result: Mapping[str, Any]) -> str | None:
    """Convergence status of a results dict (None when nothing was optimized)."""
    status = _opt_block(result).get("convergence_status", result.get("convergence_status"))
    return str(getattr(status, "value", status)) if status is not None else None


def run_fit_command(settings: Mapping[str, Any], progress: bool = True) -> dict[str, Any]:
    """Run the fit described by :func:`resolve_fit_settings` and return the ResultsDict."""
    from ..analysis import engine

    free = settings["optimize"]
    what = (f"{'optimizing ' + ','.join(free) if free else 'evaluating'} {settings['model']} on "
            f"{','.join(settings['datasets'])}")
    t0 = time.perf_counter()
    one = contextlib.nullcontext()
    if free and settings["optimizer_config"].get("method", "minimize") == "minimize":
        # one fit in this process: its evaluations and its report share one compiled program
        from ..analysis.diagnostics import H_REDSHIFTS
        from ..fit.problem import fit_in_one_program

        one = fit_in_one_program(H_REDSHIFTS)
    with spinner(what, progress), one:
        result = engine.run_fit(settings["model"], list(settings["datasets"]), mode=settings["mode"],
                                overrides=dict(settings["overrides"]) or None,
                                optimizer_config=dict(settings["optimizer_config"]) or None,
                                optimization_params=list(free) or None, data_dir=settings.get("data_dir"))
    logger.info("%s took %.2f s", what, time.perf_counter() - t0)
    return dict(result)


def _flags(result: Mapping[str, Any], free) -> tuple[list[str], list[str]]:
    """(parameters at a bound, unconstrained parameters) among ``free``, from the fit's diagnostics."""
    diag = result.get("diagnostics") if isinstance(result.get("diagnostics"), Mapping) else {}
    reached = set(diag.get("bounds_reached") or ()) | set(_opt_block(result).get("bounds_reached") or ())
    unconstrained = set(diag.get("unconstrained") or ())
    return [p for p in free if p in reached], [p for p in free if p in unconstrained]


def _not_stored(result: Mapping[str, Any], values: Mapping[str, float], flagged: Mapping[str, str]) -> dict:
    """``{name: {"value", "reason"}}`` of the flagged values; an ``at bound`` reason names the bound."""
    bounds = _opt_block(result).get("bounds") or {}
    out = {}
    for name, reason in flagged.items():
        value, detail = values[name], reason
        lo_hi = bounds.get(name)
        if "at bound" in reason and isinstance(lo_hi, (list, tuple)) and len(lo_hi) == 2:
            side = min(zip((abs(value - lo_hi[0]), abs(value - lo_hi[1])), ("lower", "upper"), lo_hi))
            detail = reason.replace("at bound", f"at its {side[1]} bound {fmt(side[2])}")
        out[name] = {"value": value, "reason": detail}
    return out


def _store_result(settings: Mapping[str, Any], result: Mapping[str, Any], status: str | None) -> dict[str, Any]:
    """Store optimized values when allowed; return what happened (for the report).

    Values at a bound or unconstrained are passed as ``bounds_reached`` / ``unconstrained``:
    the store records them in the history but not as defaults (``not_stored`` says why).
    """
    from ..runtime import utc_now

    free, opt, store = settings["optimize"], settings["options"], settings["store"]
    info: dict[str, Any] = {"store_dir": str(store.store_dir), "stored": False}
    reason = ("nothing optimized" if not free else
              "individual mode: per-dataset values are not stored" if settings["mode"] != "joint" else
              f"not converged ({status})" if status != "success" else
              "save_results is false" if not opt["save_results"] else None)
    if reason:
        return {**info, "reason": reason}
    from ..cosmology.parameters import numeric_parameters

    model_params = set(numeric_parameters(settings["model"]))
    values = {p: float(result.get("params", {})[p]) for p in free if p in model_params}  # no nuisance ones
    if not values:
        return {**info, "reason": "only nuisance parameters optimized (the store keeps model parameters)"}
    block = _opt_block(result)
    at_bound, unconstrained = _flags(result, free)
    meta = {
        "timestamp": utc_now(),
        "datasets": list(settings["datasets"]),
        "chi2_improvement": block.get("chi2_improvement"),
        "convergence_status": status,
        "final_chi2": result.get("metrics", {}).get("total_chi2"),
        "mode": settings["mode"],
        "optimizer": settings["optimizer_config"].get("method", block.get("method", "minimize")),
        "covariance_scaling": settings["covariance_scaling"],
        "frozen_parameters": settings["frozen"],
        "starting_values": {p: settings["overrides"].get(p) for p in free},
        "bounds_reached": at_bound,
        "unconstrained": unconstrained,
        "source": "pbufjax command line",
    }
    meta = {k: v for k, v in meta.items() if v is not None}
    dry = bool(opt["dry_run"])
    record = store.update_model_defaults(settings["model"], values, meta, dry_run=dry)
    kept = {k: v for k, v in record["final_values"].items() if k not in record["flagged"]}
    info.update(stored=bool(kept) and not dry, dry_run=dry, values=kept, recorded=not dry,
                not_stored=_not_stored(result, record["final_values"], record["flagged"]),
                record_id=record["record_id"])
    if dry:
        info["reason"] = "dry run"
    elif not kept:
        info["reason"] = ("every optimized parameter ended at a bound or unconstrained; "
                          "the values are recorded in the history only")
    return info


def _results_table(result: Mapping[str, Any], settings: Mapping[str, Any]) -> str:
    try:
        from ..analysis.report import format_results_table

        return format_results_table(result)
    except Exception as exc:  # the plain table below still reports the fit  # noqa: BLE001
        logger.debug("format_results_table failed: %s", exc)
    params, sig = result.get("params", {}), result.get("uncertainties", {}) or {}
    rows = [[n, fmt(params[n]), fmt(sig[n]) if n in sig else "-", "free" if n in settings["optimize"] else "fixed"]
            for n in A.model_parameters(settings["model"]) if n in params]
    blocks = result.get("results", {})
    m = result.get("metrics", {})
    return "\n".join([
        format_table(["parameter", "value", "±1σ", ""], rows), "",
        format_table(["dataset", "χ²"], [[k, fmt(v.get("chi2"))] for k, v in blocks.items() if isinstance(v, Mapping)]),
        "", "  ".join(f"{k} = {fmt(m[k])}" for k in ("total_chi2", "dof", "reduced_chi2", "p_value", "aic", "bic")
                      if k in m)])


def _fit_report(settings, result, status, stored) -> str:
    lines = [_results_table(result, settings), ""]
    if result.get("figure_of_merit") is not None:
        lines.append(f"DETF figure of merit 1/√det Cov(w0, wa) = {fmt(result['figure_of_merit'])} (Hessian)")
    if settings["sources"]:
        src = ", ".join(f"{k}={fmt(v)} ({settings['sources'][k]})" for k, v in settings["overrides"].items())
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
    if stored.get("not_stored"):
        lines.append(_not_stored_line(settings["model"], stored))
    return "\n".join(lines)


def _not_stored_line(model: str, stored: Mapping[str, Any]) -> str:
    """The closing line naming the values kept out of the defaults, and why."""
    what = "; ".join(f"{k} = {fmt(e['value'])} ({e['reason']})" for k, e in stored["not_stored"].items())
    where = "would be recorded in the history only" if stored.get("dry_run") else "recorded in the history only"
    return f"not stored as {model} defaults ({where}; later fits do not start from them): {what}"


def cmd_fit(args) -> int:
    """``pbufjax fit`` and the ``fit-*`` commands."""
    from ..runtime.compile_cache import enable_from_environment

    enable_from_environment()  # before the settings' validity check compiles its small program
    settings = resolve_fit_settings(args)
    # in table mode the engine's warnings are printed with the table: do not log them twice
    quiet = () if (args.json or args.verbose) else ("pbufjax.engine", "pbufjax.statistics", "pbufjax.optimizer",
                                                     "pbufjax.analysis", "pbufjax.fit")
    with quiet_loggers(quiet):
        result = run_fit_command(settings, progress=not args.quiet and not args.json)
    status = _convergence(result) if settings["optimize"] else None
    stored = _store_result(settings, result, status)
    result["run"] = {
        "command": args.command, "model": settings["model"], "datasets": settings["datasets"],
        "mode": settings["mode"], "optimized": settings["optimize"], "frozen": settings["frozen"],
        "starting_values": settings["overrides"], "starting_value_sources": settings["sources"],
        "optimizer_config": settings["optimizer_config"], "convergence_status": status, "store": stored,
    }
    if args.output:
        write_json(args.output, result)
    if args.json:
        emit(dumps(result))
        if stored.get("not_stored") and not args.quiet:
            sys.stderr.write(f"pbufjax: {_not_stored_line(settings['model'], stored)}\n")
    else:
        emit(_fit_report(settings, result, status, stored))
        if args.output:
            emit(f"results written to {args.output}")
    if settings["optimize"] and status != "success":
        sys.stderr.write(f"pbufjax: the fit did not converge (status: {status}); the store was not updated\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


__all__ = ["FIT_COMMANDS", "cmd_fit", "register", "resolve_fit_settings", "run_fit_command", "tolerance_options"]
