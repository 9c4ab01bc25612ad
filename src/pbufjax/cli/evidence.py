"""``pbufjax evidence``: the Bayesian evidence ln Z of a model on datasets.

::

    pbufjax evidence --model M --datasets A,B --optimize P1,P2 [--evidence-method nested|laplace]
                     [--prior NAME=uniform:LO:HI | NAME=normal:MEAN:SIGMA ...] [--seed S] [--library L]

The likelihood is exp(-χ²/2) without the Gaussian normalization, so ln Z of two models on the
same datasets compare directly (ln B = ln Z₁ − ln Z₂). Priors default to uniform over the
optimization bounds. Exit codes: 0 success; 2 bad usage or input (one line naming the value).
"""

from __future__ import annotations

from . import args as A
from .output import EXIT_OK, dumps, say
from .sampling import priors as parse_prior_options


def register(sub) -> None:
    """Add ``evidence`` to an argparse subparsers object."""
    from ..inference.evidence.nested import EVIDENCE_METHODS, NESTED_LIBRARIES

    p = sub.add_parser("evidence", help="Bayesian evidence ln Z (nested sampling or Laplace)",
                       description="ln Z = ln ∫ exp(-χ²/2) π(θ) dθ of the free parameters (no Gaussian "
                                   "normalization: ln Z of models on the same data compare directly); uniform "
                                   "priors over the optimization bounds unless --prior is given.")
    A.add_problem(p, datasets_help="comma-separated datasets or aliases (required)", store_flag=False,
                  free_help="parameters integrated over (required)")
    g = p.add_argument_group("evidence")
    g.add_argument("--evidence-method", choices=EVIDENCE_METHODS, default="nested",
                   help="nested sampling or the Laplace approximation (default nested)")
    g.add_argument("--library", choices=NESTED_LIBRARIES, default=None,
                   help=f"nested-sampling library (default {NESTED_LIBRARIES[0]})")
    g.add_argument("--live", type=A.count(10), default=None, metavar="N", help="live points (default: the library's)")
    g.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    g.add_argument("--prior", action="append", default=[], metavar="NAME=KIND:A:B",
                   help="NAME=uniform:LO:HI or NAME=normal:MEAN:SIGMA (repeatable)")
    A.add_general(p, store=False)
    p.set_defaults(handler=cmd_evidence)


def cmd_evidence(args) -> int:
    """``pbufjax evidence``: print ln Z ± error, the priors and the cost."""
    from ..inference.evidence.run import log_evidence

    model = A.check_model(args.model)
    datasets = A.datasets_arg(args)
    free = A.free_params(args, required=True)
    overrides = A.parameter_values(args, model, datasets) or None
    res = log_evidence(model, datasets, free, overrides=overrides, priors=parse_prior_options(args.prior),
                       method=args.evidence_method, seed=args.seed, library=args.library, n_live=args.live,
                       covariance_scaling=A.cov_scale(args), data_dir=A.data_dir(args))
    if args.json:
        say(dumps(res), args)
        return EXIT_OK
    head = (f"ln Z = {res['log_z']:.4f} ± {res['log_z_err']:.4f}  ({res['method']}, {res['library']}; "
            f"{res['n_likelihood_evaluations']} likelihood calls, {res['time_s']:.1f} s)")
    lines = [head, "priors:"]
    lines += [f"  {k:>12s}  {kind}({a:g}, {b:g})" for k, (kind, a, b) in res["priors"].items()]
    if res.get("prior_edge"):
        lines.append(f"warning: the posterior touches the prior edge of {', '.join(res['prior_edge'])}")
    say("\n".join(lines), args)
    return EXIT_OK
