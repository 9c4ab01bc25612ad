"""``pbufjax plot bao | sn | corner | profile | mocks``: figures (PNG/PDF/SVG by the ``--output`` extension).

::

    pbufjax plot bao | sn   --model M --datasets A,B [--fit P1,P2] [--H0 X | --set NAME=X] --output FILE.png
    pbufjax plot corner SAMPLES.npz [MORE.npz ...] [--labels A,B] [--backend getdist|matplotlib]
    pbufjax plot profile PROFILE.json | mocks COMPARISON.json  --output FILE.png

(``--optimize`` and ``--params`` are accepted for ``--fit``.)

``corner`` overlays several sample files (``--labels`` names them in the legend); its densities
come from getdist when installed (``--backend auto``), else from smoothed histograms.

``--output`` is checked before any work (:func:`figure_output`): ``.png``, ``.pdf`` or
``.svg`` is written as given; an existing folder (or a path ending in ``/``) gets
``KIND.png`` inside it; no extension gets ``.png``; anything else is exit 2 with the valid
extensions. ``wrote PATH`` names the file actually written.
"""

from __future__ import annotations

from pathlib import Path

from . import args as A
from .output import EXIT_OK, UsageError, check_output_path, read_json, say


def figure_output(path: str | None, flag: str = "--output", default_name: str = "figure.png") -> Path | None:
    """The figure file a ``--output``/``--plot``/``--corner`` value writes, checked before any work.

    Args:
        path: the option's value (None when not given).
        flag: the option's name, for the message.
        default_name: file name used when ``path`` is a folder.

    Returns:
        The file that will be written (see :func:`pbufjax.analysis.figures.figure_path`), or None.

    Raises:
        UsageError: an extension other than ``.png``/``.pdf``/``.svg``, or a folder that
            cannot be written.
    """
    if path is None:
        return None
    from ..analysis.figures import FIGURE_FORMATS, figure_path

    try:
        out = figure_path(path, default_name)
    except ValueError:
        raise UsageError(f"{flag} {path}: not a figure file; valid extensions: {', '.join(FIGURE_FORMATS)} "
                         f"(or a folder, or no extension for .png)") from None
    check_output_path(out, flag)
    return out


def register(sub) -> None:
    """Add ``plot`` and its kinds to the top-level subparsers."""
    p = sub.add_parser("plot", help="figures: BAO, SN Hubble diagram, corner, profile, mock Δχ²",
                       description="Draw a figure to --output (PNG/PDF/SVG by extension).")
    psub = p.add_subparsers(dest="plot_kind", metavar="KIND", parser_class=A.Parser)
    psub.required = True
    for kind, text in (("bao", "BAO distances with the model curves and residuals"),
                       ("sn", "SN Ia Hubble diagram with residuals")):
        q = psub.add_parser(kind, help=text, description=text + ".")
        A.add_problem(q, datasets_help="comma-separated datasets or aliases (required)",
                      free=("--fit", "--optimize", "--params"),
                      free_help="fit these parameters first (else draw at the given values)")
        q.add_argument("--output", metavar="FILE", required=True, help="figure file")
        A.add_general(q, store=False, json_out=False)
        q.set_defaults(handler=cmd_plot, plot_kind=kind)
    q = psub.add_parser("corner", help="triangle plot of sample files from 'pbufjax sample --output'",
                        description="Triangle plot of one or more sample files (.npz/.nc) from "
                                    "'pbufjax sample --output', overlaid.")
    q.add_argument("input", metavar="FILE", nargs="+", help="sample files (.npz/.nc)")
    q.add_argument("--params", metavar="P1,P2", help="quantities to show (default: the free parameters)")
    q.add_argument("--labels", metavar="A,B", help="legend name of each sample file (default: model and datasets)")
    from ..analysis.densities import BACKENDS

    q.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="density estimates: getdist (kernel densities), matplotlib (smoothed histograms), "
                        "auto (getdist when installed; default)")
    q.add_argument("--output", metavar="FILE", required=True, help="figure file")
    A.add_general(q, store=False, data=False, json_out=False)
    q.set_defaults(handler=cmd_plot, plot_kind="corner")
    for kind, what in (("profile", "a profile JSON from 'pbufjax profile --output'"),
                       ("mocks", "a comparison JSON from 'pbufjax mocks --compare --output'")):
        q = psub.add_parser(kind, help=f"figure from {what}", description=f"Figure from {what}.")
        q.add_argument("input", metavar="FILE", help=what)
        q.add_argument("--output", metavar="FILE", required=True, help="figure file")
        A.add_general(q, store=False, data=False, json_out=False)
        q.set_defaults(handler=cmd_plot, plot_kind=kind)


def _model_figure(args, plots) -> None:
    model = A.check_model(args.model)
    datasets = A.datasets_arg(args)
    data_dir = A.data_dir(args)
    overrides = A.parameter_values(args, model, datasets)
    free = A.free_params(args)
    if args.plot_kind == "sn" and len(datasets) != 1:
        raise UsageError(f"plot sn draws one SN dataset, got {datasets}")
    if free:
        from ..analysis import engine

        params = engine.run_fit(model, datasets, overrides=overrides or None, optimization_params=free,
                                optimizer_config={"covariance_scaling": A.cov_scale(args), "integrity": False},
                                data_dir=data_dir)
    else:
        from ..cosmology import parameters as parameter

        params = parameter.build_params(model, overrides, derived=False)
    if args.plot_kind == "bao":
        plots.plot_bao(params, datasets, model=model, path=args.output, data_dir=data_dir)
    else:
        plots.plot_sn(params, datasets[0], model=model, path=args.output, data_dir=data_dir)


def _corner(args, inference_plots) -> None:
    from ..inference.sampling import load_samples

    labels = A.name_list(args.labels)
    if labels is not None and len(labels) != len(args.input):
        raise UsageError(f"--labels {args.labels}: {len(labels)} names for {len(args.input)} sample files")
    params = A.name_list(args.params)
    sets = [load_samples(f) for f in args.input]
    inference_plots.plot_corner(sets if len(sets) > 1 else sets[0], params, path=args.output,
                                legend_labels=labels if len(sets) > 1 else None, backend=args.backend)


def cmd_plot(args) -> int:
    """``pbufjax plot KIND``: draw a figure; ``wrote PATH`` names the file written."""
    from ..analysis import inference_plots, plots

    kind = args.plot_kind
    args.output = str(figure_output(args.output, "--output", f"{kind}.png"))
    if kind in ("bao", "sn"):
        _model_figure(args, plots)
    elif kind == "corner":
        _corner(args, inference_plots)
    elif kind == "profile":
        inference_plots.plot_profile(read_json(args.input), path=args.output)
    else:
        inference_plots.plot_mock_delta_chi2(read_json(args.input), path=args.output)
    say(f"wrote {args.output}", args)
    return EXIT_OK


__all__ = ["cmd_plot", "figure_output", "register"]
