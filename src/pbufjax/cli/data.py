"""``pbufjax data list | info NAME | fetch NAME | verify [NAME ...]``: the dataset registry and its files.

Every command reads the dataset registry (:func:`pbufjax.data.dataset_specs`) and the
release-file registry; ``--data-dir`` is passed to them explicitly (searched first, then
``$PBUFJAX_DATA_DIR``, then the user cache, then, for the small release files that ship
with the package, the package's own copy).

``data verify`` exits with :data:`~pbufjax.cli.output.EXIT_USAGE` (2), the code ``pbufjax fit``
gives for the same bad file, when a file checked fails: a sha256 mismatch, an entry that is
not a regular file (a folder, a FIFO, a dangling link: never opened), or, for the datasets
named on the command line, a missing file. Each failure is also one line on stderr naming
the file and what is wrong. Without names every registered file is listed and files never
fetched are not a failure.
"""

from __future__ import annotations

import os
import sys

from . import args as A
from .output import EXIT_OK, EXIT_USAGE, dumps, emit, fmt, format_table, message


def register(sub) -> None:
    """Add ``data`` and its actions to the top-level subparsers."""
    pdata = sub.add_parser("data", help="list, describe, fetch and verify the release data files",
                           description="Release data files: where each is, hash checks, downloads.")
    dsub = pdata.add_subparsers(dest="data_command", metavar="ACTION", parser_class=A.Parser)
    dsub.required = True
    p = dsub.add_parser("list", help="every dataset, its aliases and whether its files are present")
    A.add_general(p, store=False)
    p.set_defaults(handler=cmd_data_list)
    p = dsub.add_parser("info", help="metadata, file locations and the fetch command of one dataset")
    p.add_argument("name", metavar="NAME", help="dataset name or alias")
    A.add_general(p, store=False)
    p.set_defaults(handler=cmd_data_info)
    p = dsub.add_parser("fetch", help="download a dataset's release files not already present (network; small files "
                                      "ship with the package) and check their sha256 or git blob id")
    p.add_argument("name", metavar="NAME", help="dataset name or alias")
    p.add_argument("--force", action="store_true", help="download even when a verified copy exists")
    A.add_general(p, store=False)
    p.set_defaults(handler=cmd_data_fetch)
    p = dsub.add_parser("verify", help="check every present release file against its published sha256 "
                                       "(or git blob id)")
    p.add_argument("names", nargs="*", metavar="NAME", help="datasets to check (default: all)")
    A.add_general(p, store=False)
    p.set_defaults(handler=cmd_data_verify)


def cmd_data_list(args) -> int:
    """``pbufjax data list``: one row per registered dataset."""
    from .. import data as datasets
    from ..data import files as datafiles

    data_dir = A.data_dir(args)
    rows, out = [], []
    for name, spec in datasets.dataset_specs().items():
        info = datasets.get_dataset_info(name, data_dir)
        files = info.get("files", {})
        if not files:
            where = "embedded"
        elif info.get("available"):
            shipped = sum(datafiles.is_shipped_copy(p) for p in files.values())
            where = f"ok ({len(files)} files" + (", shipped)" if shipped == len(files) else
                                                 f", {shipped} shipped)" if shipped else ")")
        else:
            where = f"MISSING {len(info['missing'])} of {len(files)}: {info.get('fetch_command', '')}"
        rows.append([name, ",".join(spec.aliases) or "-", spec.kind, info.get("n_points"), where])
        out.append({"name": name, **info})
    for combo in datasets.dataset_combinations().values():  # named combinations: their members' rows are above
        points = [next((o["n_points"] for o in out if o["name"] == m), None) for m in combo.members]
        rows.append([combo.name, "-", "combination", sum(points) if None not in points else None,
                     "= " + " + ".join(combo.members)])
        out.append({"name": combo.name, "dataset_type": "combination", "members": list(combo.members),
                    "description": combo.description, "reference": combo.reference})
    emit(dumps(out) if args.json else format_table(["dataset", "aliases", "type", "points", "files"], rows))
    return EXIT_OK


def cmd_data_info(args) -> int:
    """``pbufjax data info NAME``: metadata, files and where they were searched."""
    from .. import data as datasets

    data_dir = A.data_dir(args)
    if datasets.is_combination(args.name):
        combo = datasets.dataset_combinations()[args.name]
        info = {"name": combo.name, "dataset_type": "combination", "members": list(combo.members),
                "description": combo.description, "reference": combo.reference}
        emit(dumps(info) if args.json else "\n".join(
            [f"{key:16s} {', '.join(v) if isinstance(v, list) else v}" for key, v in info.items()]
            + ["(each member: pbufjax data info NAME)"]))
        return EXIT_OK
    info = datasets.get_dataset_info(args.name, data_dir)
    if args.json:
        emit(dumps(info))
        return EXIT_OK
    lines = [f"{key:16s} {fmt(value) if isinstance(value, float) else value}"
             for key, value in info.items() if key not in ("files", "missing")]
    files = info.get("files", {})
    if files:
        lines.append("files:")
        lines += [f"  {rel}: {path or 'MISSING'}" for rel, path in files.items()]
        lines.append("searched: " + _searched(data_dir))
    else:
        lines.append("files:           embedded in the package (no download needed)")
    emit("\n".join(lines))
    return EXIT_OK


def _searched(data_dir) -> str:
    """The folders searched, in order, the package's copies last (when not switched off)."""
    from ..data import files as datafiles

    where = [str(d) for d in datafiles.search_dirs(data_dir)]
    shipped = datafiles.shipped_dir()
    return ", ".join(where + ([f"{shipped} (shipped files)"] if shipped is not None else []))


def cmd_data_fetch(args) -> int:
    """``pbufjax data fetch NAME``: download (sha256 or git blob id checked) into ``--data-dir`` or the user
    cache; files already present and verified (the shipped ones included) are not downloaded again."""
    from .. import data as datasets
    from ..data import catalog

    names = datasets.expand_datasets([args.name]) if datasets.is_combination(args.name) else [args.name]
    paths = [p for name in names for p in catalog.fetch(name, args.data_dir, force=args.force,
                                                        progressbar=sys.stderr.isatty() and not args.quiet)]
    emit(dumps([str(p) for p in paths]) if args.json else "\n".join(f"ok  {p}" for p in paths))
    return EXIT_OK


#: ``data verify`` statuses that fail the command (a missing file only for named datasets).
VERIFY_FAILURES = ("HASH MISMATCH", "NOT A REGULAR FILE")


def _verify_one(rel: str, data_dir) -> dict:
    from ..data import files as datafiles

    entry = {"file": rel, "path": None, "status": "missing"}
    try:
        path = datafiles.resolve(rel, data_dir)
    except datafiles.DataFileHashError as exc:  # the package's own copy is damaged
        return {**entry, "path": str(datafiles.shipped_path(rel)), "status": "HASH MISMATCH", "error": message(exc),
                "shipped": True}
    except datafiles.DataFileTypeError as exc:
        bad = next((d / rel for d in datafiles.search_dirs(data_dir) if os.path.lexists(d / rel)),
                   datafiles.shipped_path(rel))
        return {**entry, "path": str(bad), "status": "NOT A REGULAR FILE", "error": message(exc)}
    except datafiles.DataFileNotFoundError:
        users = [n for n, fs in datafiles.registry()["datasets"].items() if rel in fs]
        entry["fetch_command"] = datafiles.fetch_command(users[0]) if users else None
        return entry
    entry.update(path=str(path), shipped=datafiles.is_shipped_copy(path))
    try:
        entry["status"] = "ok" if datafiles.verify(rel, path) else "no published hash"
    except datafiles.DataFileHashError as exc:
        entry.update(status="HASH MISMATCH", error=message(exc))
    except datafiles.DataFileTypeError as exc:  # replaced between the search and the check
        entry.update(status="NOT A REGULAR FILE", error=message(exc))
    return entry


def _failure_line(entry: dict) -> str:
    if entry["status"] == "missing":
        return f"{entry['file']}: missing; fetch it with: {entry.get('fetch_command') or 'pbufjax data fetch NAME'}"
    if entry["status"] == "HASH MISMATCH":
        return f"{entry['file']}: hash mismatch: {entry['error']}"
    return f"{entry['file']}: {entry['error']}"


def cmd_data_verify(args) -> int:
    """``pbufjax data verify [NAME ...]``: sha256 of every present release file.

    Exit 2 (as ``pbufjax fit`` for the same file) on a hash mismatch, an entry that is not a
    regular file, or a missing file of a dataset named on the command line; 0 otherwise.
    """
    from .. import data as datasets
    from ..data import files as datafiles

    data_dir = A.data_dir(args)
    rels: list[str] = []
    for name in datasets.expand_datasets(args.names or []):  # a combination: its members
        rels += [r for r in datasets.get_dataset_spec(name).files() if r not in rels]  # embedded: no files
    if not args.names:
        rels = list(datafiles.release_files())
    out = [_verify_one(rel, data_dir) for rel in rels]
    if args.json:
        emit(dumps(out))
    else:
        emit(format_table(["file", "status", "location"],
                          [[e["file"], e["status"], e["path"] or f"fetch: {e.get('fetch_command')}"] for e in out]))
        emit("searched: " + _searched(data_dir))
    failed = [e for e in out if e["status"] in VERIFY_FAILURES or (args.names and e["status"] == "missing")]
    for e in failed:
        sys.stderr.write(f"pbufjax data verify: {_failure_line(e)}\n")
    return EXIT_USAGE if failed else EXIT_OK


__all__ = ["cmd_data_fetch", "cmd_data_info", "cmd_data_list", "cmd_data_verify", "register"]
