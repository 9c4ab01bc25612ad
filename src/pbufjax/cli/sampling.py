"""``pbufjax sample | mocks | profile | multistart``: posterior sampling and batched (vmapped) fits.

::

    pbufjax sample   --model M --datasets A,B --optimize P1,P2 [--samples N --warmup N --chains N --seed S]
                     [--H0 X | --set NAME=X] [--prior NAME=gaussian:MEAN:SIGMA] [--output FILE.npz|.nc]
                     [--output ROOT --format getdist]
    pbufjax mocks    --model M --datasets A,B --optimize P1,P2 --n K [--compare ALT --alt-params P1,P2,P3]
    pbufjax profile  --model M --datasets A,B --optimize P1,P2 --grid NAME=LO:HI:N [--grid ...]
    pbufjax multistart --model M --datasets A,B --optimize P1,P2 --n-starts N [--seed S --agree-tol T]
    (mocks, profile, multistart:) [--output FILE.json [--resume]]
                      [--coordinator HOST:PORT --num-processes N --process-id I]

(``--params`` is accepted for ``--optimize``; ``--format getdist`` writes ``ROOT.txt``,
``ROOT.paramnames`` and ``ROOT.ranges`` for ``getdist.loadMCSamples(ROOT)``; the DETF figure
of merit is printed when w0 and wa are sampled.) Exit codes: 0 success; 1 not converged
(r_hat > 1.01, failed mock fits, no start converged); 2 bad usage or input.

Every output file (``--output``, ``--plot``, ``--corner``) is checked before any work: its
extension (``.npz``/``.nc`` for samples, ``.json`` for mocks and profiles, ``.png``/``.pdf``/
``.svg`` for figures) and that its folder can be written. A profile grid holds at most
:data:`pbufjax.inference.batch.profile.MAX_PROFILE_POINTS` points (each point is one fit).

``mocks``, ``profile`` and ``multistart`` with ``--output FILE.json`` stream their fits chunk by chunk to the
campaign folder ``FILE.campaign`` (:mod:`pbufjax.runtime.campaign`) and write ``FILE.json`` at
the end; ``--resume`` continues a killed run from its last completed chunk (an existing
campaign is never overwritten without it: exit 2). ``--coordinator``, ``--num-processes``,
``--process-id`` (or ``--distributed auto``) run the command as one of N cooperating
processes (:mod:`pbufjax.runtime.distributed`); process 0 writes the files and prints.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import args as A
from .output import EXIT_NOT_CONVERGED, EXIT_OK, UsageError, check_output_path, dumps, say, write_json
from .plot import figure_output

#: ``--format`` choices of ``pbufjax sample`` (:data:`pbufjax.inference.sampling.io.SAVE_FORMATS`).
SAVE_FORMATS = ("npz", "netcdf", "getdist")


def priors(items: Sequence[str]) -> dict[str, Any] | None:
    """``NAME=gaussian:MEAN:SIGMA`` or ``NAME=uniform:LO:HI`` (repeatable) -> the sampler's priors."""
    if not items:
        return None
    out = {}
    for item in items:
        try:
            name, spec = item.split("=", 1)
            kind, a, b = spec.split(":")
        except ValueError:
            raise UsageError(f"--prior expects NAME=gaussian:MEAN:SIGMA or NAME=uniform:LO:HI, got {item!r}") from None
        name = name.strip()
        out[name] = (kind.strip(), A.number(name, a, "--prior"), A.number(name, b, "--prior"))
    return out


def data_output(path: str | None, valid: Sequence[str], flag: str = "--output") -> str | None:
    """Check an output file's extension and folder before any work is done.

    Raises:
        UsageError: an extension not in ``valid`` (the message lists them), a folder, or a
            folder that cannot be written.
    """
    if path is None:
        return None
    suffix = Path(path).suffix
    if suffix not in valid:
        raise UsageError(f"{flag} {path}: unknown extension {suffix or '(none)'!r}; valid extensions: {', '.join(valid)}")
    check_output_path(path, flag)
    return path


def _sample_output(args, valid: Sequence[str], check_root) -> bool:
    """Check ``--output``/``--format`` of ``pbufjax sample`` before any work; True for a getdist root."""
    if args.format == "getdist":
        if not args.output:
            raise UsageError("--format getdist needs --output ROOT (e.g. --output chains/run1)")
        try:
            check_root(args.output)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--output {args.output}: {exc}") from None
        return True
    data_output(args.output, valid)
    want = {"npz": ".npz", "netcdf": ".nc"}.get(args.format)
    if want and args.output and Path(args.output).suffix != want:
        raise UsageError(f"--format {args.format} needs an --output ending in {want}, got {args.output}")
    return False


def _axis_size(name: str, spec: str, item: str) -> int:
    """Number of points of one ``--grid`` value, read without building the grid."""
    if ":" not in spec:
        return len([s for s in spec.split(",") if s.strip()])
    parts = spec.split(":")
    if len(parts) != 3:
        raise UsageError(f"--grid expects NAME=LO:HI:N, got {item!r}")
    try:
        return int(parts[2])
    except ValueError:
        raise UsageError(f"--grid {name}: number of points must be an integer, got {parts[2]!r}") from None


def grid(items: Sequence[str]) -> dict[str, Any]:
    """``NAME=LO:HI:N`` (N >= 1 points) or ``NAME=v1,v2,...`` (repeatable) -> the profile grid.

    Raises:
        UsageError: a malformed item, an axis with no points, or more points in all than
            :data:`~pbufjax.inference.batch.profile.MAX_PROFILE_POINTS` (checked before any
            grid is built).
    """
    import numpy as np

    from ..inference.batch import profile

    if not items:
        raise UsageError("give at least one --grid NAME=LO:HI:N")
    parsed = []
    for item in items:
        name, sep, spec = (s.strip() for s in item.partition("="))
        if not sep:
            raise UsageError(f"--grid expects NAME=LO:HI:N or NAME=v1,v2,..., got {item!r}")
        parsed.append((name, spec, _axis_size(name, spec, item)))
    total = math.prod(max(n, 0) for _, _, n in parsed)
    if total > profile.MAX_PROFILE_POINTS:
        sizes = " x ".join(f"{name} {n}" for name, _, n in parsed)
        raise UsageError(f"--grid asks for {total} points ({sizes}); the limit is MAX_PROFILE_POINTS = "
                         f"{profile.MAX_PROFILE_POINTS} (each point is one fit): use fewer points")
    out = {}
    for name, spec, n in parsed:
        if ":" in spec:
            lo, hi, _ = spec.split(":")
            lo, hi = A.number(name, lo, "--grid"), A.number(name, hi, "--grid")
            if n < 1:
                raise UsageError(f"--grid {name}: the grid has no points (N = {n}); N must be >= 1")
            out[name] = np.linspace(lo, hi, n)
        else:
            values = [s for s in spec.split(",") if s.strip()]
            if not values:
                raise UsageError(f"--grid {name}: the grid has no points; give NAME=LO:HI:N or NAME=v1,v2,...")
            out[name] = np.array([A.number(name, v, "--grid") for v in values])
    return out


def _problem(p, *, required_free: bool = True) -> None:
    A.add_problem(p, datasets_help="comma-separated datasets or aliases (required)", store_flag=False,
                  free_help="free parameters" + (" (required)" if required_free else ""))


def _batch_args(p) -> None:
    g = p.add_argument_group("batch")
    g.add_argument("--devices", type=A.positive_int, metavar="N", help="shard over the first N devices (default all)")
    g.add_argument("--chunk-size", type=A.positive_int, metavar="C", help="fits per chunk (default: from memory)")
    A.add_optimizer(g, batch=True)
    A.add_campaign(g)
    A.add_distributed(p)


def _batch_command(sub, name: str, handler, help_text: str, description: str):
    """A batched-fit subcommand (mocks, profile, multistart): the problem flags, its own
    group (returned, for the command's flags), the batch, campaign and process-layout
    flags, the general flags and the handler."""
    p = sub.add_parser(name, help=help_text, description=description)
    _problem(p)
    g = p.add_argument_group(name)
    _batch_args(p)
    A.add_general(p, store=False)
    p.set_defaults(handler=handler)
    return g


def campaign_folder(args) -> str | None:
    """The campaign folder of ``--output FILE.json`` (``FILE.campaign``), or None.

    Raises:
        UsageError: ``--resume`` without ``--output``.
    """
    if args.output is None:
        if args.resume:
            raise UsageError("--resume needs --output FILE.json (the run to continue)")
        return None
    return str(Path(args.output).with_suffix(".campaign"))


def _start(args) -> bool:
    """Join the process layout (before any JAX work); True in the process that writes and prints."""
    info = A.start_distributed(args)
    main = info["process_id"] == 0
    if not main:
        args.quiet, args.json = True, False
    return main


def register(sub) -> None:
    """Add ``sample``, ``mocks``, ``profile`` and ``plot`` to an argparse subparsers object."""
    from . import plot

    p = sub.add_parser("sample", help="sample the posterior with NUTS (numpyro)",
                       description="Sample the posterior of the free parameters with NUTS on the compiled χ²; "
                                   "uniform priors over the optimization bounds unless --prior is given.")
    _problem(p)
    g = p.add_argument_group("sampler")
    g.add_argument("--samples", type=A.count(1), default=2000, metavar="N", help="samples per chain (default 2000)")
    g.add_argument("--warmup", type=A.count(0), default=1000, metavar="N", help="warm-up iterations (default 1000)")
    g.add_argument("--chains", type=A.count(1), default=4, metavar="N", help="chains (default 4)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--target-accept", type=A.probability, default=0.8, metavar="P", help="target acceptance (0.8)")
    g.add_argument("--chain-method", choices=("auto", "vectorized", "sequential", "parallel"), default="auto",
                   help="how chains run (default auto: sequential on CPU, vectorized on accelerators)")
    g.add_argument("--diagonal-mass", action="store_true", help="diagonal instead of dense mass matrix")
    g.add_argument("--prior", action="append", default=[], metavar="NAME=KIND:A:B",
                   help="NAME=gaussian:MEAN:SIGMA or NAME=uniform:LO:HI (repeatable)")
    g.add_argument("--no-precomputed", "--no-store", dest="no_precomputed", action="store_true",
                   help="do not start from the stored best fit")
    g.add_argument("--progress", action="store_true", help="progress bar (recompiles the sampler each run)")
    g.add_argument("--output", metavar="FILE", help="save the samples (.npz, or .nc with arviz; a root with "
                   "--format getdist)")
    g.add_argument("--format", choices=SAVE_FORMATS, default=None,
                   help="sample file format (default: from the --output extension; getdist: ROOT.txt, "
                        "ROOT.paramnames, ROOT.ranges)")
    g.add_argument("--corner", metavar="FILE.png", help="also draw the corner plot there")
    A.add_general(p)
    p.set_defaults(handler=cmd_sample)

    g = _batch_command(sub, "mocks", cmd_mocks,
                       "fit mock data sets in one vmapped batch (model comparison with --compare)",
                       "Draw K mock data sets around the ΛCDM best fit (or --fiducial values) and fit the model to "
                       "each; with --compare ALT, fit both models and report the Δχ² / ΔAIC distribution and the "
                       "p-value of the real data's Δχ².")
    g.add_argument("--n", type=A.count(1), required=True, metavar="K", help="number of mocks (>= 1)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--starts", type=A.count(1), default=1, metavar="S", help="starts per mock (default 1)")
    g.add_argument("--fiducial", action="append", default=[], metavar="NAME=X",
                   help="fiducial ΛCDM parameter values (default: the best fit to the real data)")
    g.add_argument("--compare", metavar="ALT", help="alternative model (e.g. pbuf): run the model comparison")
    g.add_argument("--alt-params", "--alt-optimize", dest="alt_params", action=A.Once, normalize=A.name_list,
                   metavar="P1,P2", help="free parameters of the alternative model")
    g.add_argument("--output", metavar="FILE.json", help="write the results as JSON")
    g.add_argument("--plot", metavar="FILE.png", help="Δχ² histogram (with --compare)")

    g = _batch_command(sub, "profile", cmd_profile, "profile likelihood on a 1-D or 2-D grid (vmapped fits)",
                       "Minimize χ² over the other free parameters at every grid point; report Δχ² and the "
                       "68/95% intervals.")
    g.add_argument("--grid", action="append", default=[], metavar="NAME=LO:HI:N",
                   help="profiled parameter and its grid (one or two; NAME=LO:HI:N or NAME=v1,v2,...)")
    g.add_argument("--output", metavar="FILE.json", help="write the profile as JSON")
    g.add_argument("--plot", metavar="FILE.png", help="draw the profile there")

    g = _batch_command(sub, "multistart", cmd_multistart,
                       "fit the real data from many starts in one vmapped batch (multimodal fits)",
                       "Fit the real data from N starts: the first at the defaults (or --set values), the others "
                       "uniform over the bounds; report the best fit, how many starts reached it and the distinct "
                       "minima found.")
    g.add_argument("--n-starts", "--n", dest="n_starts", type=A.count(1), required=True, metavar="N",
                   help="number of starts (>= 1)")
    g.add_argument("--seed", type=int, default=0, help="random seed of the starts (default 0)")
    g.add_argument("--agree-tol", type=A.positive_float, default=1e-4, metavar="T",
                   help="χ² difference under which two minima are the same (default 1e-4)")
    g.add_argument("--output", metavar="FILE.json", help="write every start's fit as JSON")

    plot.register(sub)


def _summary_table(summary: dict, names: Sequence[str]) -> str:
    lines = [f"{'parameter':>14s} {'mean':>12s} {'std':>10s} {'q16':>12s} {'q84':>12s} {'r_hat':>7s} {'ess':>8s}"]
    for k in names:
        s = summary[k]
        lines.append(f"{k:>14s} {s['mean']:12.6g} {s['std']:10.4g} {s['q16']:12.6g} {s['q84']:12.6g} "
                     f"{s['r_hat']:7.4f} {s['ess']:8.0f}")
    return "\n".join(lines)


def _common(args, *, also: Sequence[str] = ()) -> tuple[str, list[str], list[str], dict | None]:
    """Model, datasets, free parameters and parameter values of a sample/mocks/profile command."""
    model = A.check_model(args.model)
    datasets = A.datasets_arg(args)
    free = A.free_params(args, required=True)
    return model, datasets, free, A.parameter_values(args, model, datasets, also=also) or None


def _batch_method(args) -> str:
    valid = A.batch_optimizer_names()
    if args.optimizer is not None and args.optimizer not in valid:
        raise UsageError(f"unknown batch optimizer {args.optimizer!r}; valid batch optimizers: {', '.join(valid)}")
    if args.optimizer is None:
        from ..inference import batch

        return batch.DEFAULT_METHOD
    return args.optimizer


def cmd_sample(args) -> int:
    """``pbufjax sample``: NUTS posterior samples, summary table, optional file and corner plot."""
    from ..inference.sampling import sample_posterior
    from ..inference.sampling.io import SAMPLE_FORMATS, check_getdist_root, save_samples

    getdist = _sample_output(args, SAMPLE_FORMATS, check_getdist_root)
    if args.output and not getdist and Path(args.output).suffix == ".nc":
        import importlib.util

        if importlib.util.find_spec("arviz") is None:
            raise UsageError(f"--output {args.output}: netCDF (.nc) needs arviz: pip install arviz (or save to .npz)")
    corner = figure_output(args.corner, "--corner", "corner.png")
    model, datasets, free, overrides = _common(args)
    res = sample_posterior(
        model, datasets, free, overrides=overrides, num_samples=args.samples, num_warmup=args.warmup,
        num_chains=args.chains, seed=args.seed, priors=priors(args.prior), covariance_scaling=A.cov_scale(args),
        target_accept_prob=args.target_accept, dense_mass=not args.diagonal_mass, chain_method=args.chain_method,
        use_store=not args.no_precomputed, store_dir=args.store_dir, progress_bar=bool(args.progress and not args.quiet),
        output=None if getdist else args.output, data_dir=A.data_dir(args))
    if getdist:
        save_samples(res, args.output, format="getdist")
    fom = res.get("figure_of_merit")
    if corner:
        from ..analysis.inference_plots import plot_corner

        plot_corner(res, path=corner)
    if args.json:
        keep = ("num_divergences", "accept_prob_mean", "num_steps_mean")
        say(dumps({"summary": res["summary"], "timing": res["timing"], "ess_per_second": res["ess_per_second"],
                   "figure_of_merit": fom,
                   "diagnostics": {k: v for k, v in res["diagnostics"].items() if k in keep},
                   "output": args.output}), args)
    else:
        say(_summary_table(res["summary"], res["free_params"] + res["derived_params"]), args)
        say(f"{args.chains} chains × {args.samples} samples in {res['timing']['sampling']:.2f} s "
            f"(compile {res['timing']['compile']:.1f} s): {res['ess_per_second']:.0f} ESS/s; "
            f"{res['diagnostics']['num_divergences']} divergences"
            + (f"; saved to {args.output}" if args.output else ""), args)
        if fom is not None:
            say(f"DETF figure of merit 1/√det Cov(w0, wa) = {fom:.4g} (chain)", args)
    worst = max(res["summary"][k]["r_hat"] for k in res["free_params"])
    if args.chains > 1 and math.isfinite(worst) and worst > 1.01:
        sys.stderr.write(f"pbufjax sample: chains not converged (r_hat {worst:.4f} > 1.01); "
                         f"run longer (--warmup, --samples)\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def _compare(args, batch, datasets, free, overrides, common, main: bool = True) -> int:
    alt = A.check_model(args.compare)
    if not args.alt_params:
        raise UsageError("--compare needs --alt-params (the alternative model's free parameters)")
    res = batch.compare_models(datasets, args.n, null_model=args.model or A.DEFAULT_MODEL, alt_model=alt,
                               null_params=free, alt_params=A.name_list(args.alt_params), overrides=overrides,
                               fiducial=A.settings(args.fiducial, "--fiducial") or None, **common)
    if args.output and main:
        write_json(args.output, {k: v for k, v in res.items() if k not in ("null", "alt")}
                   | {"null_chi2": res["null"]["chi2"], "alt_chi2": res["alt"]["chi2"]}, suffix=".json")
    if args.plot and main:
        from ..analysis.inference_plots import plot_mock_delta_chi2

        plot_mock_delta_chi2(res, path=args.plot)
    o, q = res["observed"], res["quantiles"]["delta_chi2"]
    if args.json:
        say(dumps({"n_mocks": args.n, "n_valid": res["n_valid"], "observed_delta_chi2": o["delta_chi2"],
                   "observed_delta_aic": o["delta_aic"], "p_value": res["p_value"],
                   "mock_delta_chi2_quantiles": q}), args)
    else:
        say(f"{args.model or A.DEFAULT_MODEL} vs {alt} on {args.datasets}: real data Δχ² = {o['delta_chi2']:.3f}, "
            f"ΔAIC = {o['delta_aic']:.3f}; mocks ({res['n_valid']}/{args.n} valid): Δχ² median "
            f"{q.get('50', float('nan')):.3f}, 95% {q.get('95', float('nan')):.3f}; p-value {res['p_value']:.4g}", args)
    return args.n - res["n_valid"]


def cmd_mocks(args) -> int:
    """``pbufjax mocks``: batched mock fits, or the mock-calibrated model comparison."""
    import numpy as np

    data_output(args.output, (".json",))
    campaign = campaign_folder(args)
    main = _start(args)
    if args.plot and not args.compare:
        raise UsageError("--plot draws the Δχ² histogram of a model comparison: add --compare ALT")
    args.plot = figure_output(args.plot, "--plot", "mocks.png")
    model, datasets, free, overrides = _common(args, also=[args.compare] if args.compare else ())
    common = {"seed": args.seed, "covariance_scaling": A.cov_scale(args), "n_starts": args.starts,
              "devices": args.devices, "chunk_size": args.chunk_size, "progress": not args.quiet,
              "method": _batch_method(args), "data_dir": A.data_dir(args), "output": campaign,
              "resume": args.resume}
    from ..inference import batch

    if args.compare:
        failed = _compare(args, batch, datasets, free, overrides, common, main)
    else:
        res = batch.fit_mocks(model, datasets, free, args.n, overrides=overrides,
                              fiducial=A.settings(args.fiducial, "--fiducial") or None, **common)
        if args.output and main:
            write_json(args.output, res, suffix=".json")
        summary = {"n_mocks": args.n, "converged": int(res["converged"].sum()),
                   "chi2_mean": float(np.mean(res["chi2"])), "dof": res["dof"],
                   "params_mean": {k: float(np.mean(v)) for k, v in res["params"].items()},
                   "params_std": {k: float(np.std(v)) for k, v in res["params"].items()}, "time": res["time"]}
        if args.json:
            say(dumps(summary), args)
        else:
            say(f"{args.n} mock fits of {model} on {args.datasets} in {res['time']:.2f} s: "
                f"{summary['converged']} converged, mean χ² {summary['chi2_mean']:.2f} (dof {res['dof']})", args)
            for k in res["params"]:
                say(f"  {k}: mean {summary['params_mean'][k]:.6g}, scatter {summary['params_std'][k]:.4g}", args)
        failed = sum(1 for s in np.ravel(res["status"]) if str(getattr(s, "value", s)) in ("2", "failed"))
    if failed:
        sys.stderr.write(f"pbufjax mocks: {failed} of {args.n} mock fits failed\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


def cmd_profile(args) -> int:
    """``pbufjax profile``: profile likelihood on a grid."""
    from ..inference import batch

    data_output(args.output, (".json",))
    plot = figure_output(args.plot, "--plot", "profile.png")
    points = grid(args.grid)
    campaign = campaign_folder(args)
    main = _start(args)
    model, datasets, free, overrides = _common(args)
    res = batch.profile_likelihood(model, datasets, free, points, overrides=overrides,
                                   covariance_scaling=A.cov_scale(args), devices=args.devices,
                                   chunk_size=args.chunk_size, progress=not args.quiet, method=_batch_method(args),
                                   data_dir=A.data_dir(args), output=campaign, resume=args.resume)
    if args.output and main:
        write_json(args.output, res, suffix=".json")
    if plot and main:
        from ..analysis.inference_plots import plot_profile

        plot_profile(res, path=plot)
    if args.json:
        say(dumps({k: res[k] for k in ("names", "chi2_min", "best", "intervals")}), args)
        return EXIT_OK
    say(f"profile of {', '.join(res['names'])} ({model} on {args.datasets}): χ²_min = {res['chi2_min']:.4f}", args)
    for lab, iv in res["intervals"].items():
        if len(res["names"]) == 1:
            edge = "" if iv["lower_closed"] and iv["upper_closed"] else " (reaches the grid edge)"
            say(f"  {lab}%: [{iv['lower']:.6g}, {iv['upper']:.6g}]{edge}", args)
        else:
            say(f"  {lab}%: " + ", ".join(f"{k} in [{v['lower']:.6g}, {v['upper']:.6g}]" for k, v in iv.items()), args)
    return EXIT_OK


def cmd_multistart(args) -> int:
    """``pbufjax multistart``: fits of the real data from many starts; exit 1 if none converged."""
    from ..inference import batch

    data_output(args.output, (".json",))
    campaign = campaign_folder(args)
    main = _start(args)
    model, datasets, free, overrides = _common(args)
    res = batch.multistart(model, datasets, free, args.n_starts, overrides=overrides,
                           covariance_scaling=A.cov_scale(args), seed=args.seed, devices=args.devices,
                           chunk_size=args.chunk_size, progress=not args.quiet, method=_batch_method(args),
                           agree_tol=args.agree_tol, data_dir=A.data_dir(args), output=campaign,
                           resume=args.resume)
    if args.output and main:
        write_json(args.output, res, suffix=".json")
    keys = ("best", "chi2_min", "n_converged", "n_at_best", "distinct_minima", "n_processes", "n_devices")
    if args.json:
        say(dumps({"n_starts": args.n_starts, **{k: res[k] for k in keys}}), args)
    else:
        best = ", ".join(f"{k} = {v:.6g}" for k, v in res["best"].items())
        say(f"{args.n_starts} starts of {model} on {args.datasets}: best χ² = {res['chi2_min']:.4f} at {best}; "
            f"{res['n_converged']} converged, {res['n_at_best']} reached the best; "
            f"{len(res['distinct_minima'])} distinct minima", args)
    if res["n_converged"] == 0:
        sys.stderr.write(f"pbufjax multistart: none of the {args.n_starts} starts converged\n")
        return EXIT_NOT_CONVERGED
    return EXIT_OK


__all__ = ["campaign_folder", "cmd_mocks", "cmd_multistart", "cmd_profile", "cmd_sample", "data_output", "grid", "priors", "register"]
