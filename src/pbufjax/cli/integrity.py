"""``pbufjax integrity``: physics consistency and covariance checks at one parameter point."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import args as A
from .output import EXIT_NOT_CONVERGED, EXIT_OK, dumps, emit, fmt, format_table, progress


def register(sub) -> None:
    """Add ``integrity`` to the top-level subparsers."""
    p = sub.add_parser("integrity", help="physics consistency and covariance checks at a parameter point",
                       description="Run the integrity suite (H(z) against closed forms, recombination, covariances, "
                                   "overlapping surveys).")
    A.add_problem(p, datasets_help="datasets whose covariances are checked (default cmb,bao,sn)", free=None,
                  cov_scale=False, store_flag=True)
    A.add_general(p)
    p.set_defaults(handler=cmd_integrity)


def cmd_integrity(args) -> int:
    """Run :func:`pbufjax.integrity.run_integrity_suite`; exit 1 when a check fails."""
    from ..analysis import integrity
    from ..cosmology import parameters as parameter

    data_dir = A.data_dir(args)
    model = A.check_model(args.model)
    datasets = A.datasets_arg(args, ["cmb", "bao", "sn"])
    overrides = {} if args.no_precomputed else A.store(args).get_stored_parameters(model)
    overrides.update(A.parameter_values(args, model, datasets))
    params = parameter.build_params(model, overrides)
    with progress("running the integrity suite", not args.quiet and not args.json):
        report = integrity.run_integrity_suite(params, datasets, data_dir=data_dir)
    emit(dumps(report) if args.json else integrity_text(report))
    return EXIT_OK if integrity_passed(report) else EXIT_NOT_CONVERGED


def integrity_passed(report: Mapping[str, Any]) -> bool:
    """Whether an integrity report passed (its ``passed``/``status`` entry, else every check)."""
    for key in ("overall_status", "passed", "status", "ok"):
        if key in report:
            value = report[key]
            return value is True or (isinstance(value, str) and value.lower() in ("pass", "passed", "ok", "success"))
    return all((v.get("passed", True) if isinstance(v, Mapping) else (v is not False)) for v in report.values())


def _ok(v: Any) -> str:
    return "pass" if v is True else ("FAIL" if v is False else str(v))


def integrity_text(report: Mapping[str, Any]) -> str:
    """Readable table of :func:`pbufjax.integrity.run_integrity_suite`'s report."""
    rows = []
    h = report.get("h_ratios")
    if isinstance(h, Mapping):
        rows.append(["H(z) vs closed form", _ok(h.get("passed")),
                     f"max deviation {fmt(h.get('max_deviation'))} (tolerance {fmt(h.get('tolerance'))})"])
    rec = report.get("recombination")
    if isinstance(rec, Mapping):
        rows.append(["recombination z*", _ok(rec.get("passed")),
                     f"z* = {fmt(rec.get('z_star'))}, expected {fmt(rec.get('expected'))} ± {fmt(rec.get('tolerance'))}"])
    cov = report.get("covariance")
    for name, info in (cov.items() if isinstance(cov, Mapping) else ()):
        if isinstance(info, Mapping):
            canonical = info.get("dataset", name)
            label = name if canonical == name else f"{name} ({canonical})"
            rows.append([f"covariance {label}", _ok(info.get("passed")),
                         (f"n = {info.get('n')}, min eigenvalue {fmt(info.get('min_eigenvalue'))}, "
                          f"condition number {fmt(info.get('condition_number'))}")])
    known = {"h_ratios", "recombination", "covariance", "overlaps", "warnings", "passed", "config"}
    for name, value in report.items():
        if name not in known:
            rows.append([name, _ok(value.get("passed", "") if isinstance(value, Mapping) else value), ""])
    lines = [format_table(["check", "result", "detail"], rows)]
    lines += [f"warning: {w}" for w in report.get("warnings") or []]
    lines.append(f"overall: {'pass' if integrity_passed(report) else 'FAIL'}")
    return "\n".join(lines)


__all__ = ["cmd_integrity", "integrity_passed", "integrity_text", "register"]
