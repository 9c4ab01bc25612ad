"""Command-line subcommands for sampling, batched fits and figures.

::

    pbufjax sample   --model M --datasets A,B --params P1,P2 [--samples N --warmup N --chains N --seed S]
                     [--set NAME=X] [--prior NAME=gaussian:MEAN:SIGMA] [--output FILE.npz|.nc] [--corner FILE.png]
    pbufjax mocks    --model M --datasets A,B --params P1,P2 --n K [--compare ALT --alt-params P1,P2,P3]
                     [--seed S] [--devices N] [--chunk-size C] [--output FILE.json] [--plot FILE.png]
    pbufjax profile  --model M --datasets A,B --params P1,P2 --grid NAME=LO:HI:N [--grid ...]
                     [--output FILE.json] [--plot FILE.png]
    pbufjax plot     bao | sn   --model M --datasets A,B [--fit P1,P2] [--set NAME=X] --output FILE.png
    pbufjax plot     corner SAMPLES.npz | profile PROFILE.json | mocks COMPARISON.json  --output FILE.png

:func:`register` adds these to an ``argparse`` subparsers object (the main ``pbufjax``
parser); :func:`main` runs them on their own. Every handler returns an exit code: 0
success, 1 not converged (r_hat > 1.01, failed mock fits), 2 bad usage or input (one
line on stderr naming the bad value and the valid choices).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .cli import _finite_float

EXIT_OK = 0
EXIT_NOT_CONVERGED = 1
EXIT_USAGE = 2

logger = logging.getLogger("pbufjax.cli")

_INPUT_ERRORS = (ValueError, KeyError, TypeError, FileNotFoundError, IsADirectoryError, PermissionError, ImportError)


class _UsageError(Exception):
    """Bad command-line usage (exit code 2)."""


class _StandaloneParser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


# ---------------------------------------------------------------------------
# argument types
# ---------------------------------------------------------------------------


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid integer {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {v}")
        return v

    return parse


def _prob(text: str) -> float:
    v = _finite_float(text)
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {v}")
    return v


def _positive(text: str) -> float:
    v = _finite_float(text)
    if not v > 0:
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text!r}")
    return v


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [s.strip() for s in text.split(",")]
    if any(not s for s in names):
        raise ValueError(f"empty name in the list {text!r}; give names separated by commas (e.g. H0,Om0)")
    return names


def _number(name: str, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"value of {name!r} is not a number: {text!r}") from None
    if not math.isfinite(v):
        raise ValueError(f"value of {name!r} must be finite, got {text!r}")
    return v


def _settings(items: Sequence[str]) -> dict[str, Any]:
    """``["NAME=X", ...]`` → overrides (``recomb_method`` kept as a string)."""
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--set expects NAME=X, got {item!r}")
        k, v = (s.strip() for s in item.split("=", 1))
        if not k:
            raise ValueError(f"--set expects NAME=X, got {item!r}")
        out[k] = v if k == "recomb_method" else _number(k, v)
    return out


def _priors(items: Sequence[str]) -> dict[str, Any] | None:
    """``NAME=gaussian:MEAN:SIGMA`` or ``NAME=uniform:LO:HI``."""
    if not items:
        return None
    out = {}
    for item in items:
        try:
            k, spec = item.split("=", 1)
            kind, a, b = spec.split(":")
        except ValueError:
            raise ValueError(f"--prior expects NAME=gaussian:MEAN:SIGMA or NAME=uniform:LO:HI, got {item!r}") from None
        out[k.strip()] = (kind.strip(), _number(k, a), _number(k, b))
    return out


def _grid(items: Sequence[str]) -> dict[str, np.ndarray]:
    """``NAME=LO:HI:N`` (N points, N ≥ 1) or ``NAME=v1,v2,...``."""
    if not items:
        raise ValueError("give at least one --grid NAME=LO:HI:N")
    out = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--grid expects NAME=LO:HI:N or NAME=v1,v2,..., got {item!r}")
        k, spec = (s.strip() for s in item.split("=", 1))
        if ":" in spec:
            parts = spec.split(":")
            if len(parts) != 3:
                raise ValueError(f"--grid expects NAME=LO:HI:N, got {item!r}")
            lo, hi = _number(k, parts[0]), _number(k, parts[1])
            try:
                n = int(parts[2])
            except ValueError:
                raise ValueError(f"--grid {k}: number of points must be an integer, got {parts[2]!r}") from None
            if n < 1:
                raise ValueError(f"--grid {k}: the grid has no points (N = {n}); N must be >= 1")
            out[k] = np.linspace(lo, hi, n)
        else:
            vals = [s for s in spec.split(",") if s.strip()]
            if not vals:
                raise ValueError(f"--grid {k}: the grid has no points; give NAME=LO:HI:N or NAME=v1,v2,...")
            out[k] = np.array([_number(k, v) for v in vals])
    return out


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    return obj


def _write_json(path, obj) -> Path:
    path = Path(path)
    if path.suffix != ".json":
        raise ValueError(f"--output must be a .json file, got {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_jsonable(obj), indent=1) + "\n")
    return path


def _read_json(path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None

    def back(x):
        if isinstance(x, dict):
            return {k: back(v) for k, v in x.items()}
        if isinstance(x, list) and x and all(isinstance(v, (int, float, str, type(None), list)) for v in x):
            try:
                arr = np.array([np.inf if v == "inf" else -np.inf if v == "-inf" else np.nan if v is None else v
                                for v in x], dtype=float) if not any(isinstance(v, list) for v in x) else \
                    np.array(x, dtype=float)
                return arr
            except (ValueError, TypeError):
                return x
        return x

    return back(doc)


# ---------------------------------------------------------------------------
# parsers
# ---------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("general")
    g.add_argument("--data-dir", metavar="DIR", help="folder with the release data files (default $PBUFJAX_DATA_DIR)")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress indicator, no summary table")
    g.add_argument("-v", "--verbose", action="count", default=0, help="log progress (-vv: debug)")
    g.add_argument("--debug", action="store_true", help="show the full traceback on errors")


def _problem_args(p: argparse.ArgumentParser, *, params_required: bool = True) -> None:
    g = p.add_argument_group("model and data")
    g.add_argument("--model", metavar="M", default="lcdm", help="model name (default lcdm)")
    g.add_argument("--datasets", metavar="A,B", required=True, help="comma-separated datasets or aliases")
    g.add_argument("--params", metavar="P1,P2", required=params_required, help="free parameters")
    g.add_argument("--set", action="append", default=[], metavar="NAME=X",
                   help="fixed value of a parameter (repeatable), e.g. --set Obh2=0.02237")
    g.add_argument("--cov-scale", type=_positive, default=1.0, metavar="F", help="scale every covariance by F")


def _batch_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("batch")
    g.add_argument("--devices", type=_count(1), metavar="N", help="shard over the first N devices (default all)")
    g.add_argument("--chunk-size", type=_count(1), metavar="C", help="fits per chunk (default: from memory)")
    g.add_argument("--method", choices=("lbfgs", "newton", "gauss_newton"), default=None,
                   help="batch optimizer (default gauss_newton)")


def register(subparsers) -> None:
    """Add ``sample``, ``mocks``, ``profile`` and ``plot`` to an argparse subparsers object."""
    p = subparsers.add_parser("sample", help="sample the posterior with NUTS (numpyro)",
                              description="Sample the posterior of the free parameters with NUTS on the compiled χ²; "
                                          "uniform priors over the optimization bounds unless --prior is given.")
    _problem_args(p)
    g = p.add_argument_group("sampler")
    g.add_argument("--samples", type=_count(1), default=2000, metavar="N", help="samples per chain (default 2000)")
    g.add_argument("--warmup", type=_count(0), default=1000, metavar="N", help="warm-up iterations (default 1000)")
    g.add_argument("--chains", type=_count(1), default=4, metavar="N", help="chains (default 4)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--target-accept", type=_prob, default=0.8, metavar="P", help="target acceptance (default 0.8)")
    g.add_argument("--chain-method", choices=("auto", "vectorized", "sequential", "parallel"), default="auto",
                   help="how chains run (default auto: sequential on CPU, vectorized on accelerators)")
    g.add_argument("--diagonal-mass", action="store_true", help="diagonal instead of dense mass matrix")
    g.add_argument("--prior", action="append", default=[], metavar="NAME=KIND:A:B",
                   help="NAME=gaussian:MEAN:SIGMA or NAME=uniform:LO:HI (repeatable)")
    g.add_argument("--no-store", action="store_true", help="do not start from the stored best fit")
    g.add_argument("--store-dir", metavar="DIR", help="parameter store folder")
    g.add_argument("--progress", action="store_true", help="progress bar (recompiles the sampler each run)")
    g.add_argument("--output", metavar="FILE", help="save the samples (.npz, or .nc with arviz)")
    g.add_argument("--corner", metavar="FILE.png", help="also draw the corner plot there")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(p)
    p.set_defaults(handler=cmd_sample)

    p = subparsers.add_parser("mocks", help="fit mock data sets in one vmapped batch (model comparison with --compare)",
                              description="Draw K mock data sets around the ΛCDM best fit (or --fiducial values) and "
                                          "fit the model to each; with --compare ALT, fit both models and report the "
                                          "Δχ² / ΔAIC distribution and the p-value of the real data's Δχ².")
    _problem_args(p)
    g = p.add_argument_group("mocks")
    g.add_argument("--n", type=_count(1), required=True, metavar="K", help="number of mocks (>= 1)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--starts", type=_count(1), default=1, metavar="S", help="starts per mock (default 1)")
    g.add_argument("--fiducial", action="append", default=[], metavar="NAME=X",
                   help="fiducial ΛCDM parameter values (default: the best fit to the real data)")
    g.add_argument("--compare", metavar="ALT", help="alternative model (e.g. pbuf): run the model comparison")
    g.add_argument("--alt-params", metavar="P1,P2", help="free parameters of the alternative model")
    g.add_argument("--output", metavar="FILE.json", help="write the results as JSON")
    g.add_argument("--plot", metavar="FILE.png", help="Δχ² histogram (with --compare)")
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    _batch_args(p)
    _common(p)
    p.set_defaults(handler=cmd_mocks)

    p = subparsers.add_parser("profile", help="profile likelihood on a 1-D or 2-D grid (vmapped fits)",
                              description="Minimize χ² over the other free parameters at every grid point; report "
                                          "Δχ² and the 68/95% intervals.")
    _problem_args(p)
    g = p.add_argument_group("profile")
    g.add_argument("--grid", action="append", default=[], metavar="NAME=LO:HI:N",
                   help="profiled parameter and its grid (one or two; NAME=LO:HI:N or NAME=v1,v2,...)")
    g.add_argument("--output", metavar="FILE.json", help="write the profile as JSON")
    g.add_argument("--plot", metavar="FILE.png", help="draw the profile there")
    g.add_argument("--json", action="store_true", help="print the result as JSON")
    _batch_args(p)
    _common(p)
    p.set_defaults(handler=cmd_profile)

    p = subparsers.add_parser("plot", help="figures: BAO, SN Hubble diagram, corner, profile, mock Δχ²",
                              description="Draw a figure to --output (PNG/PDF/SVG by extension).")
    psub = p.add_subparsers(dest="plot_kind", metavar="KIND", parser_class=type(p))
    psub.required = True
    for kind, text in (("bao", "BAO distances with the model curves and residuals"),
                       ("sn", "SN Ia Hubble diagram with residuals")):
        q = psub.add_parser(kind, help=text, description=text + ".")
        _problem_args(q, params_required=False)
        q.add_argument("--fit", metavar="P1,P2", help="fit these parameters first (else draw at the given values)")
        q.add_argument("--output", metavar="FILE", required=True, help="figure file")
        _common(q)
        q.set_defaults(handler=cmd_plot, plot_kind=kind)
    for kind, what in (("corner", "a sample file (.npz/.nc) from 'pbufjax sample --output'"),
                       ("profile", "a profile JSON from 'pbufjax profile --output'"),
                       ("mocks", "a comparison JSON from 'pbufjax mocks --compare --output'")):
        q = psub.add_parser(kind, help=f"figure from {what}", description=f"Figure from {what}.")
        q.add_argument("input", metavar="FILE", help=what)
        q.add_argument("--params", metavar="P1,P2", help="quantities to show (corner)")
        q.add_argument("--output", metavar="FILE", required=True, help="figure file")
        _common(q)
        q.set_defaults(handler=cmd_plot, plot_kind=kind)


# ---------------------------------------------------------------------------
# handlers
# ---------------------------------------------------------------------------


def _guard(name: str, fn: Callable[[argparse.Namespace], int], args) -> int:
    import os

    saved = os.environ.get("PBUFJAX_DATA_DIR")
    try:
        if getattr(args, "data_dir", None):
            os.environ["PBUFJAX_DATA_DIR"] = str(args.data_dir)
        return int(fn(args))
    except _INPUT_ERRORS as exc:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        sys.stderr.write(f"pbufjax {name}: error: {' '.join(str(msg).split())}\n")
        return EXIT_USAGE
    finally:
        if saved is None:
            os.environ.pop("PBUFJAX_DATA_DIR", None)
        else:
            os.environ["PBUFJAX_DATA_DIR"] = saved


def _out(text: str, args) -> None:
    if not getattr(args, "quiet", False) or getattr(args, "json", False):
        sys.stdout.write(text + "\n")


def _summary_table(summary: dict, names: Sequence[str]) -> str:
    lines = [f"{'parameter':>14s} {'mean':>12s} {'std':>10s} {'q16':>12s} {'q84':>12s} {'r_hat':>7s} {'ess':>8s}"]
    for k in names:
        s = summary[k]
        lines.append(f"{k:>14s} {s['mean']:12.6g} {s['std']:10.4g} {s['q16']:12.6g} {s['q84']:12.6g} "
                     f"{s['r_hat']:7.4f} {s['ess']:8.0f}")
    return "\n".join(lines)


def _sample(args) -> int:
    from .sample import sample_posterior

    res = sample_posterior(
        args.model, _names(args.datasets), _names(args.params), overrides=_settings(args.set) or None,
        num_samples=args.samples, num_warmup=args.warmup, num_chains=args.chains, seed=args.seed,
        priors=_priors(args.prior), covariance_scaling=args.cov_scale, target_accept_prob=args.target_accept,
        dense_mass=not args.diagonal_mass, chain_method=args.chain_method, use_store=not args.no_store,
        store_dir=args.store_dir, progress_bar=bool(args.progress and not args.quiet), output=args.output)
    if args.corner:
        from .plots import plot_corner

        plot_corner(res, path=args.corner)
    names = res["free_params"] + res["derived_params"]
    if args.json:
        _out(json.dumps(_jsonable({"summary": res["summary"], "timing": res["timing"],
                                   "ess_per_second": res["ess_per_second"],
                                   "diagnostics": {k: v for k, v in res["diagnostics"].items()
                                                   if k in ("num_divergences", "accept_prob_mean", "num_steps_mean")},
                                   "output": args.output}), indent=1), args)
    else:
        _out(_summary_table(res["summary"], names), args)
        _out(f"{args.chains} chains × {args.samples} samples in {res['timing']['sampling']:.2f} s "
             f"(compile {res['timing']['compile']:.1f} s): {res['ess_per_second']:.0f} ESS/s; "
             f"{res['diagnostics']['num_divergences']} divergences"
             + (f"; saved to {args.output}" if args.output else ""), args)
    worst = max(res["summary"][k]["r_hat"] for k in res["free_params"])
    if args.chains > 1 and math.isfinite(worst) and worst > 1.01:
        sys.stderr.write(f"pbufjax sample: chains not converged (r_hat {worst:.4f} > 1.01); "
                         f"run longer (--warmup, --samples)\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def cmd_sample(args) -> int:
    """``pbufjax sample``: NUTS posterior samples, summary table, optional file and corner plot."""
    return _guard("sample", _sample, args)


def _fiducial(items) -> dict | None:
    vals = _settings(items)
    return vals or None


def _mocks(args) -> int:
    from . import batch

    common = {"seed": args.seed, "covariance_scaling": args.cov_scale, "n_starts": args.starts,
              "devices": args.devices, "chunk_size": args.chunk_size, "progress": not args.quiet,
              "method": args.method or batch.DEFAULT_METHOD}
    if args.compare:
        if not args.alt_params:
            raise ValueError("--compare needs --alt-params (the alternative model's free parameters)")
        res = batch.compare_models(_names(args.datasets), args.n, null_model=args.model, alt_model=args.compare,
                                   null_params=_names(args.params), alt_params=_names(args.alt_params),
                                   overrides=_settings(args.set) or None, fiducial=_fiducial(args.fiducial), **common)
        if args.output:
            _write_json(args.output, {k: v for k, v in res.items() if k not in ("null", "alt")} |
                        {"null_chi2": res["null"]["chi2"], "alt_chi2": res["alt"]["chi2"]})
        if args.plot:
            from .plots import plot_mock_delta_chi2

            plot_mock_delta_chi2(res, path=args.plot)
        o = res["observed"]
        summary = {"n_mocks": args.n, "n_valid": res["n_valid"], "observed_delta_chi2": o["delta_chi2"],
                   "observed_delta_aic": o["delta_aic"], "p_value": res["p_value"],
                   "mock_delta_chi2_quantiles": res["quantiles"]["delta_chi2"]}
        if args.json:
            _out(json.dumps(_jsonable(summary), indent=1), args)
        else:
            q = res["quantiles"]["delta_chi2"]
            _out(f"{args.model} vs {args.compare} on {args.datasets}: real data Δχ² = {o['delta_chi2']:.3f}, "
                 f"ΔAIC = {o['delta_aic']:.3f}; mocks ({res['n_valid']}/{args.n} valid): Δχ² median "
                 f"{q.get('50', float('nan')):.3f}, 95% {q.get('95', float('nan')):.3f}; p-value {res['p_value']:.4g}",
                 args)
        failed = args.n - res["n_valid"]
    else:
        if args.plot:
            raise ValueError("--plot draws the Δχ² histogram of a model comparison: add --compare ALT")
        res = batch.fit_mocks(args.model, _names(args.datasets), _names(args.params), args.n,
                              overrides=_settings(args.set) or None, fiducial=_fiducial(args.fiducial), **common)
        if args.output:
            _write_json(args.output, res)
        summary = {"n_mocks": args.n, "converged": int(res["converged"].sum()),
                   "chi2_mean": float(np.mean(res["chi2"])), "dof": res["dof"],
                   "params_mean": {k: float(np.mean(v)) for k, v in res["params"].items()},
                   "params_std": {k: float(np.std(v)) for k, v in res["params"].items()}, "time": res["time"]}
        if args.json:
            _out(json.dumps(_jsonable(summary), indent=1), args)
        else:
            _out(f"{args.n} mock fits of {args.model} on {args.datasets} in {res['time']:.2f} s: "
                 f"{summary['converged']} converged, mean χ² {summary['chi2_mean']:.2f} (dof {res['dof']})", args)
            for k in res["params"]:
                _out(f"  {k}: mean {summary['params_mean'][k]:.6g}, scatter {summary['params_std'][k]:.4g}", args)
        failed = int(np.sum(res["status"] == 2))
    if failed:
        sys.stderr.write(f"pbufjax mocks: {failed} of {args.n} mock fits failed\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def cmd_mocks(args) -> int:
    """``pbufjax mocks``: batched mock fits, or the mock-calibrated model comparison."""
    return _guard("mocks", _mocks, args)


def _profile(args) -> int:
    from . import batch

    res = batch.profile_likelihood(args.model, _names(args.datasets), _names(args.params), _grid(args.grid),
                                   overrides=_settings(args.set) or None, covariance_scaling=args.cov_scale,
                                   devices=args.devices, chunk_size=args.chunk_size, progress=not args.quiet,
                                   method=args.method or batch.DEFAULT_METHOD)
    if args.output:
        _write_json(args.output, res)
    if args.plot:
        from .plots import plot_profile

        plot_profile(res, path=args.plot)
    if args.json:
        _out(json.dumps(_jsonable({k: res[k] for k in ("names", "chi2_min", "best", "intervals")}), indent=1), args)
    else:
        _out(f"profile of {', '.join(res['names'])} ({args.model} on {args.datasets}): χ²_min = {res['chi2_min']:.4f}",
             args)
        for lab, iv in res["intervals"].items():
            if len(res["names"]) == 1:
                _out(f"  {lab}%: [{iv['lower']:.6g}, {iv['upper']:.6g}]"
                     + ("" if iv["lower_closed"] and iv["upper_closed"] else " (reaches the grid edge)"), args)
            else:
                _out(f"  {lab}%: " + ", ".join(f"{k} in [{v['lower']:.6g}, {v['upper']:.6g}]" for k, v in iv.items()),
                     args)
    return EXIT_OK


def cmd_profile(args) -> int:
    """``pbufjax profile``: profile likelihood on a grid."""
    return _guard("profile", _profile, args)


def _plot(args) -> int:
    from . import plots

    kind = args.plot_kind
    if kind in ("bao", "sn"):
        overrides = _settings(args.set)
        datasets = _names(args.datasets)
        if args.fit:
            from .engine import run_fit

            res = run_fit(args.model, datasets, overrides=overrides or None, optimization_params=_names(args.fit),
                          optimizer_config={"covariance_scaling": args.cov_scale, "integrity": False})
            params = res
        else:
            from .parameter import build_params

            params = build_params(args.model, overrides, derived=False)
        if kind == "bao":
            plots.plot_bao(params, datasets, model=args.model, path=args.output)
        else:
            if len(datasets) != 1:
                raise ValueError(f"plot sn draws one SN dataset, got {datasets}")
            plots.plot_sn(params, datasets[0], model=args.model, path=args.output)
    elif kind == "corner":
        from .sample import load_samples

        plots.plot_corner(load_samples(args.input), _names(args.params), path=args.output)
    elif kind == "profile":
        plots.plot_profile(_read_json(args.input), path=args.output)
    else:
        doc = _read_json(args.input)
        plots.plot_mock_delta_chi2(doc, path=args.output)
    _out(f"wrote {args.output}", args)
    return EXIT_OK


def cmd_plot(args) -> int:
    """``pbufjax plot KIND``: draw a figure."""
    return _guard("plot", _plot, args)


# ---------------------------------------------------------------------------
# standalone entry point
# ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """A parser with only these subcommands (``python -m pbufjax.cli_sampling``)."""
    parser = _StandaloneParser(prog="pbufjax", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_StandaloneParser)
    sub.required = True
    register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one of these subcommands; returns the exit code (0, 1 or 2)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser().parse_args(argv)
    except _UsageError as exc:
        sys.stderr.write(f"pbufjax: error: {exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    level = logging.INFO if args.verbose == 1 else logging.DEBUG if args.verbose >= 2 or args.debug else logging.WARNING
    pkg = logging.getLogger("pbufjax")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pbufjax: %(levelname)s: %(message)s"))
    saved = (pkg.level, pkg.propagate)
    pkg.addHandler(handler)
    pkg.setLevel(level)
    pkg.propagate = False
    try:
        return int(args.handler(args))
    finally:
        pkg.removeHandler(handler)
        pkg.setLevel(saved[0])
        pkg.propagate = saved[1]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
