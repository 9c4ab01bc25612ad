"""Logging and reports of fits, through the standard :mod:`logging` module.

The package logs under the ``pbufjax`` logger hierarchy and never prints;
:func:`configure_logging` attaches a handler for scripts that want the messages
on the terminal. :func:`format_results_table` turns a ResultsDict into a
readable table (parameters ± σ, per-dataset χ², metrics, warnings). Per-dataset
blocks are keyed by the names the caller gave (``"cmb"``); where that is an alias,
the table shows the canonical name recorded in the block next to it.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

logger = logging.getLogger("pbufjax.run")

#: The derived keys of a ParameterDict (``cosmology.parameters.DERIVED_PARAMS``, kept literal: this
#: module is imported by the light command-line start-up; a test checks that the two agree).
_DERIVED = ("Omh2", "z_recomb", "z_drag", "r_s_drag", "omnuh2", "Onu0")


def get_logger(name: str = "pbufjax") -> logging.Logger:
    """A logger in the ``pbufjax`` hierarchy."""
    if not name.startswith("pbufjax"):
        name = f"pbufjax.{name}"
    return logging.getLogger(name)


def configure_logging(level: int | str = "INFO", stream=None, fmt: str = "%(levelname)s %(name)s: %(message)s"
                      ) -> logging.Logger:
    """Send ``pbufjax`` log messages to ``stream`` (default stderr) at ``level``.

    Idempotent: calling it again replaces the handler it installed.

    Raises:
        ValueError: unknown level name.
    """
    if isinstance(level, str):
        lvl = logging.getLevelName(level.upper())
        if not isinstance(lvl, int):
            raise ValueError(f"unknown logging level {level!r}; valid levels: DEBUG, INFO, WARNING, ERROR, CRITICAL")
        level = lvl
    root = logging.getLogger("pbufjax")
    for h in list(root.handlers):
        if getattr(h, "_pbufjax_handler", False):
            root.removeHandler(h)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(logging.Formatter(fmt))
    handler._pbufjax_handler = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return root


def _fmt(v: Any, digits: int = 6) -> str:
    if v is None:
        return "-"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    try:
        x = float(v)
    except (TypeError, ValueError):
        return str(v)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.{digits - 2}e}"
    return f"{x:.{digits}g}"


def _sigma_fmt(value: float, sigma: float) -> str:
    """Value and σ rounded to two significant digits of σ."""
    if sigma is None or not math.isfinite(sigma) or sigma <= 0:
        return _fmt(value)
    dec = max(0, 1 - int(math.floor(math.log10(sigma))))
    if abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3e} ± {sigma:.2e}"
    return f"{value:.{dec}f} ± {sigma:.{dec}f}"


def log_run(model: str, mode: str, results: Mapping[str, Any], metrics: Mapping[str, Any]) -> None:
    """Log a standardized summary of a run at INFO level.

    Args:
        model: model name.
        mode: fitting mode.
        results: a ResultsDict, or its per-dataset ``results`` block.
        metrics: MetricsDict.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    blocks = results.get("results", results) if isinstance(results, Mapping) else {}
    chi2s = ", ".join(f"{k}: {_fmt(v.get('chi2'))}" for k, v in blocks.items() if isinstance(v, Mapping))
    logger.info("%s %s fit: χ² = %s (DOF %s, AIC %s, BIC %s) [%s]", model, mode, _fmt(metrics.get("total_chi2")),
                metrics.get("dof"), _fmt(metrics.get("aic")), _fmt(metrics.get("bic")), chi2s)
    if isinstance(results, Mapping) and isinstance(results.get("params"), Mapping):
        sig = results.get("uncertainties") or {}
        free = results.get("free_params") or list(sig)
        if free:
            logger.info("best fit: %s", ", ".join(
                f"{k} = {_sigma_fmt(float(results['params'][k]), sig.get(k, float('nan')))}" for k in free
                if k in results["params"]))
        opt = results.get("optimization") or {}
        if opt.get("method"):
            logger.info("optimizer %s: %s after %s evaluations in %.3g s", opt.get("method"),
                        opt.get("convergence_status"), opt.get("n_function_evaluations"),
                        opt.get("optimization_time", float("nan")))


def log_diagnostics(params: Mapping[str, Any], predictions: Mapping[str, Any]) -> None:
    """Log physics diagnostics: derived recombination quantities and the predictions.

    Args:
        params: ParameterDict (derived keys used when present).
        predictions: dataset name → predictions dict (or one predictions dict).
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    derived = ", ".join(f"{k} = {_fmt(params[k])}" for k in _DERIVED if k in params)
    logger.info("%s (%s): %s", params.get("model_class", "?"), params.get("recomb_method", "?"),
                derived or "no derived keys")
    items = predictions.items() if isinstance(predictions, Mapping) else []
    for name, pred in items:
        if isinstance(pred, Mapping):
            parts = []
            for k, v in pred.items():
                arr = np.asarray(v) if not isinstance(v, (str, list)) else None
                if arr is not None and arr.dtype.kind in "fiu":
                    if arr.ndim == 0:
                        parts.append(f"{k} = {_fmt(arr)}")
                    else:
                        head = ", ".join(_fmt(x, 5) for x in arr.ravel()[:6])
                        parts.append(f"{k} = [{head}{', ...' if arr.size > 6 else ''}]")
            logger.info("predictions %s: %s", name, "; ".join(parts))
        else:
            logger.info("prediction %s = %s", name, _fmt(pred))


def _table(headers, rows, align) -> list[str]:
    rows = [[str(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if a == "r" else c.ljust(w) for c, w, a in zip(cells, widths, align)).rstrip()

    return [line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def _dataset_label(name: str, block: Mapping[str, Any]) -> str:
    """``name``, followed by the canonical dataset name when the caller used an alias."""
    canonical = block.get("dataset")
    return f"{name} ({canonical})" if isinstance(canonical, str) and canonical != name else str(name)


def _joint_table(results: Mapping[str, Any]) -> list[str]:
    lines = []
    params = results.get("params") or {}
    sig = results.get("uncertainties") or {}
    free = list(results.get("free_params") or [])
    diag = results.get("diagnostics") or {}
    unconstrained = set(diag.get("unconstrained") or [])
    at_bound = set(diag.get("bounds_reached") or [])
    rows = []
    for k, v in params.items():
        if k in _DERIVED or isinstance(v, (str, Mapping)) or k == "optimization_metadata":
            continue
        if k in free:
            if k in unconstrained:
                val, note = _fmt(v), "free, unconstrained"
            else:
                val, note = _sigma_fmt(float(v), sig.get(k, float("nan"))), "free"
            if k in at_bound:
                note += ", at bound"
        else:
            val, note = _fmt(v), "fixed"
        rows.append([k, val, note])
    for k in _DERIVED:
        if k in params:
            rows.append([k, _fmt(params[k]), "derived"])
    lines += _table(["parameter", "value", ""], rows, "lrl")
    blocks = results.get("results") or {}
    brows = []
    for name, b in blocks.items():
        if isinstance(b, Mapping):
            brows.append([_dataset_label(name, b), b.get("n_data", "-"), _fmt(b.get("chi2"))])
    m = results.get("metrics") or {}
    if brows:
        brows.append(["total", m.get("n_data", "-"), _fmt(m.get("total_chi2"))])
        lines.append("")
        lines += _table(["dataset", "N", "χ²"], brows, "lrr")
    return lines


def format_results_table(results: Mapping[str, Any]) -> str:
    """Format a ResultsDict as a human-readable table.

    Shows the header (model, datasets, optimizer status), every parameter with
    ±1σ for the constrained free ones (unconstrained and at-bound parameters
    marked), the per-dataset χ² with number of points, the metrics and the
    warnings. Individual-mode results get one section per dataset.

    Args:
        results: ResultsDict from :func:`pbufjax.engine.run_fit`.

    Returns:
        The table (a string ending without a newline).

    Raises:
        TypeError: ``results`` is not a dict.

    Example:
        >>> print(format_results_table({"model": "lcdm", "datasets": ["desi_dr2"], "params": {"H0": 70.0}}))
        lcdm fit to desi_dr2 (joint)
        <BLANKLINE>
        parameter  value
        ---------  -----  -----
        H0            70  fixed
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a ResultsDict (dict), got {type(results).__name__}")
    model = results.get("model", "?")
    mode = results.get("mode", "joint")
    datasets = results.get("datasets") or list((results.get("results") or {}).keys())
    opt = results.get("optimization") or {}
    head = f"{model} fit to {', '.join(datasets)} ({mode})"
    if opt.get("method"):
        head += f" — {opt['method']}: {opt.get('convergence_status')}"
        if opt.get("n_function_evaluations") is not None:
            head += f", {opt['n_function_evaluations']} χ² evaluations"
        if opt.get("optimization_time") is not None:
            head += f", {1e3 * opt['optimization_time']:.1f} ms"
    elif opt.get("convergence_status"):
        head += f" — {opt['convergence_status']}"
    lines = [head, ""]
    if mode == "individual" and isinstance(results.get("fits"), Mapping):
        for name, sub in results["fits"].items():
            lines.append(f"[{name}]")
            lines += _joint_table(sub)
            lines.append("")
    else:
        lines += _joint_table(results)
        lines.append("")
    m = results.get("metrics") or {}
    if m:
        lines.append("  ".join([
            f"χ² = {_fmt(m.get('total_chi2'))}", f"DOF = {m.get('dof', '-')}",
            f"χ²/DOF = {_fmt(m.get('reduced_chi2'), 4)}", f"p = {_fmt(m.get('p_value'), 3)}",
            f"AIC = {_fmt(m.get('aic'))}", f"BIC = {_fmt(m.get('bic'))}",
        ]))
    warnings = (results.get("diagnostics") or {}).get("warnings") or []
    for w in warnings:
        lines.append(f"warning: {w}")
    return "\n".join(lines).rstrip()


__all__ = ["configure_logging", "format_results_table", "get_logger", "log_diagnostics", "log_run"]
