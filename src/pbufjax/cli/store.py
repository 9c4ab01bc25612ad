"""``pbufjax store show | history | export | consistency | repair``: the optimized-parameter store."""

from __future__ import annotations

from . import args as A
from .output import EXIT_OK, UsageError, check_output_path, dumps, emit, fmt, format_table, message


def register(sub) -> None:
    """Add ``store`` and its actions to the top-level subparsers."""
    pstore = sub.add_parser(
        "store", help="inspect, export and repair the optimized-parameter store",
        description="The optimized-parameter store (--store-dir, else $PBUFJAX_STORE_DIR, else ./optimization_results).")
    ssub = pstore.add_subparsers(dest="store_command", metavar="ACTION", parser_class=A.Parser)
    ssub.required = True
    p = ssub.add_parser("show", help="stored optimized values per model")
    p.add_argument("--model", metavar="M", help="only this model")
    A.add_general(p, data=False)
    p.set_defaults(handler=cmd_store_show)
    p = ssub.add_parser("history", help="optimization records, oldest first")
    p.add_argument("--model", metavar="M", help="only this model")
    p.add_argument("--limit", type=A.positive_int, metavar="N", help="only the last N records")
    A.add_general(p, data=False)
    p.set_defaults(handler=cmd_store_history)
    p = ssub.add_parser("export", help="write the optimization summary JSON")
    p.add_argument("--output", metavar="FILE", default=None, help="destination (default reports/optimization_summary.json)")
    A.add_general(p, data=False)
    p.set_defaults(handler=cmd_store_export)
    p = ssub.add_parser("consistency", help="divergence of the shared parameters (H0, Om0, Obh2, ns) across models")
    p.add_argument("--models", metavar="A,B", help="models to compare (default lcdm, pbuf and every stored model)")
    A.add_general(p, data=False)
    p.set_defaults(handler=cmd_store_consistency)
    p = ssub.add_parser("repair", help="move corrupt store files aside as backups, rebuild from the history, and "
                                        "quarantine stored values outside their valid range")
    A.add_general(p, data=False)
    p.set_defaults(handler=cmd_store_repair)


def _ignored(store) -> dict[str, dict[str, str]]:
    """``{model: {parameter: problem}}``: stored values the store ignores (outside their valid range)."""
    from ..store import MODEL_FILE_SUFFIX, StoreInvalidValue

    out: dict[str, dict[str, str]] = {}
    for problem in store.check():
        if isinstance(problem, StoreInvalidValue):
            out.setdefault(problem.path.name[: -len(MODEL_FILE_SUFFIX)], {})[problem.parameter] = problem.problem
    return out


def cmd_store_show(args) -> int:
    """``pbufjax store show``: stored values with their provenance (and the values it ignores)."""
    store = A.store(args)
    models = [A.check_model(args.model)] if args.model else store.stored_models()
    ignored = _ignored(store)
    out, rows = {}, []
    for m in models:
        params = store.get_model_defaults(m)
        meta = params.pop("optimization_metadata")
        stored = store.get_stored_parameters(m)
        out[m] = {"stored": stored, "defaults": params, "updated": meta.get("updated"),
                  "provenance": meta.get("provenance", {}), "ignored": ignored.get(m, {})}
        for name, value in stored.items():
            prov = meta.get("provenance", {}).get(name, {})
            rows.append([m, name, fmt(value), prov.get("dataset"), prov.get("timestamp")])
    if args.json:
        emit(dumps({"store_dir": str(store.store_dir), "models": out}))
    elif not rows:
        emit(f"no optimized values stored in {store.store_dir}")
    else:
        emit(f"store: {store.store_dir}")
        emit(format_table(["model", "parameter", "value", "dataset", "optimized at"], rows))
    if not args.json:
        for m in models:
            for name, problem in ignored.get(m, {}).items():
                emit(f"ignored {m} {name}: {problem} (`pbufjax store repair` moves it to the quarantine section)")
    return EXIT_OK


def cmd_store_history(args) -> int:
    """``pbufjax store history``: optimization records, oldest first."""
    store = A.store(args)
    if args.model:
        A.check_model(args.model)
    recs = store.get_optimization_history(args.model)
    if args.limit:
        recs = recs[-args.limit:]
    if args.json:
        emit(dumps(recs))
    elif not recs:
        emit(f"no optimization records in {store.store_dir}")
    else:
        rows = [[r["timestamp"], r["model"], r["dataset"], ",".join(r["optimized_params"]),
                 " ".join(f"{k}={fmt(v)}" for k, v in r["final_values"].items()),
                 fmt(r["chi2_improvement"]) if r["chi2_improvement"] is not None else "-", r["convergence_status"]]
                for r in recs]
        emit(format_table(["timestamp", "model", "dataset", "optimized", "values", "Δχ²", "status"], rows))
    return EXIT_OK


def cmd_store_export(args) -> int:
    """``pbufjax store export``: the optimization summary JSON."""
    from ..store import DEFAULT_SUMMARY_PATH

    store = A.store(args)
    target = args.output or DEFAULT_SUMMARY_PATH
    check_output_path(target)
    path = store.export_optimization_summary(target)
    emit(dumps({"written": str(path)}) if args.json else f"optimization summary written to {path}")
    return EXIT_OK


def cmd_store_consistency(args) -> int:
    """``pbufjax store consistency``: shared parameters across models, and whether they agree."""
    from ..store import CONSISTENCY_TOLERANCE

    store = A.store(args)
    models = A.name_list(args.models)
    if models is not None:
        for m in models:
            A.check_model(m)
        if len(models) < 2:
            raise UsageError("--models: name at least two models to compare")
    report = store.cross_model_report(models)
    if args.json:
        emit(dumps(report))
        return EXIT_OK
    names = list(next(iter(report.values()))["values"]) if report else []
    rows = [[p, *[fmt(e["values"].get(m)) for m in names], f"{100 * e['divergence']:.3g}%",
             "ok" if e["consistent"] else "DIVERGENT"] for p, e in report.items()]
    emit(format_table(["parameter", *names, "divergence", f"(tolerance {100 * CONSISTENCY_TOLERANCE:g}%)"], rows))
    return EXIT_OK


def cmd_store_repair(args) -> int:
    """``pbufjax store repair``: keep corrupt files as backups, rebuild from the history, quarantine bad values."""
    store = A.store(args)
    problems = store.check()
    report = store.repair()
    if args.json:
        emit(dumps({"problems": [message(p) for p in problems], **report}))
        return EXIT_OK
    if not report["backups"] and not report["quarantined"]:
        emit(f"store {store.store_dir} is healthy; nothing to repair")
        return EXIT_OK
    for q in report["quarantined"]:
        emit(f"quarantined {q['model']} {q['parameter']} = {q['value']!r} in {q['file']}: {q['reason']} "
             "(kept in the file's 'quarantined_parameters' section; fits no longer see it)")
    for b in report["backups"]:
        emit(f"kept the corrupt file as {b}")
    for r in report["rebuilt"]:
        emit(f"rebuilt {r}")
    if report["dropped_records"]:
        emit(f"dropped {report['dropped_records']} invalid history record(s) (still in the backup)")
    return EXIT_OK


__all__ = ["cmd_store_consistency", "cmd_store_export", "cmd_store_history", "cmd_store_repair", "cmd_store_show",
           "register"]
