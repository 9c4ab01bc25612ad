"""The ``pbufjax`` command line (also ``python -m pbufjax``).

Commands::

    pbufjax fit        --model M --datasets a,b [...]   fit any list of datasets
    pbufjax fit-cmb | fit-bao | fit-aniso | fit-sn | fit-joint [...]   the same with default datasets
    pbufjax data       list | info NAME | fetch NAME | verify [NAME ...]
    pbufjax store      show | history | export | consistency | repair
    pbufjax integrity  --model M --datasets a,b         physics and covariance checks
    pbufjax sample | mocks | profile | multistart | plot   sampling, batched fits, figures
    pbufjax evidence   --model M --datasets a,b --optimize P1,P2   Bayesian evidence ln Z

Every subcommand speaks one vocabulary (:mod:`pbufjax.cli.args`): ``--optimize`` (alias
``--params``), ``--H0 70`` (alias ``--set H0=70``), ``--recomb-method``, ``--cov-scale``,
``--optimizer`` (alias ``--method``), ``--data-dir``, ``--store-dir``; a setting given twice
with different values is an error. ``--data-dir`` is passed to the library as ``data_dir=``
(the environment is never changed).

Where each fit setting comes from, highest precedence first::

    command line  >  --config file  >  parameter store  >  model defaults

Exit codes: 0 success; 1 a fit that did not converge (or a failed check); 2 bad usage or
input (one-line message naming the problem and the valid choices); 3 an unexpected internal
error (``--debug`` shows the traceback).

Modules: :mod:`.args` (types, vocabulary), :mod:`.output` (exit codes, tables, JSON),
:mod:`.fit`, :mod:`.data`, :mod:`.store`, :mod:`.integrity`, :mod:`.sampling`, :mod:`.plot`,
:mod:`.config` (run configuration files). Heavy modules (the engine, datasets, rich) are
imported only by the commands that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Sequence

from . import args as _args
from . import data as _data
from . import evidence as _evidence
from . import fit as _fit
from . import integrity as _integrity
from . import sampling as _sampling
from . import store as _store
from .args import DEFAULT_MODEL
from .data import cmd_data_fetch, cmd_data_info, cmd_data_list, cmd_data_verify
from .fit import FIT_COMMANDS, cmd_fit, resolve_fit_settings, run_fit_command
from .integrity import cmd_integrity
from .output import EXIT_INTERNAL, EXIT_NOT_CONVERGED, EXIT_OK, EXIT_USAGE, UsageError, format_table, jsonable, message
from .store import cmd_store_consistency, cmd_store_export, cmd_store_history, cmd_store_repair, cmd_store_show

logger = logging.getLogger("pbufjax.cli")


def __getattr__(name: str):
    """``TOLERANCE_OPTION`` and ``OPTIMIZER_CHOICES_FALLBACK``: read from the solver registry on access."""
    if name == "TOLERANCE_OPTION":
        return _fit.tolerance_options()
    if name == "OPTIMIZER_CHOICES_FALLBACK":
        return tuple(_args.optimizer_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_parser() -> argparse.ArgumentParser:
    """The ``pbufjax`` argument parser (every subcommand)."""
    from .. import __version__

    top = ("Run 'pbufjax COMMAND --help' for the options of a command.\n"
           "Precedence of settings: command line > --config file > parameter store > model defaults.\n"
           "Exit codes: 0 success, 1 not converged / check failed, 2 bad usage or input, 3 internal error.")
    parser = _args.Parser(
        prog="pbufjax",
        description="Differentiable background-cosmology fits (ΛCDM, wCDM, w0waCDM, PBUF) to CMB priors, BAO and SN Ia.",
        lazy_epilog=lambda: _args.help_epilog() + "\n\n" + top)
    parser.add_argument("-V", "--version", action="version", version=f"pbufjax {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_args.Parser)
    sub.required = True
    for module in (_fit, _data, _store, _integrity, _sampling, _evidence):
        module.register(sub)
    return parser


@contextlib.contextmanager
def _session(args):
    """Logging to stderr for one command, undone afterwards (``main`` may run in-process)."""
    verbose = getattr(args, "verbose", 0) or 0
    level = logging.DEBUG if verbose >= 2 or getattr(args, "debug", False) else (
        logging.INFO if verbose == 1 else logging.WARNING)
    pkg = logging.getLogger("pbufjax")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("pbufjax: %(levelname)s: %(message)s"))
    saved = (pkg.level, pkg.propagate)
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


def classify(exc: BaseException) -> tuple[int, str]:
    """Exit code and one-line message of an exception.

    Bad usage or input (exit 2): :class:`UsageError`, configuration and store errors,
    ``ValueError``/``KeyError``/``TypeError``, file-system errors, and a missing optional
    package. Anything else is an internal error (exit 3).
    """
    from ..store import StoreError
    from .config import ConfigError

    if isinstance(exc, (UsageError, ConfigError, StoreError, ValueError, KeyError, TypeError, OSError)):
        return EXIT_USAGE, message(exc)
    if isinstance(exc, ModuleNotFoundError) or (isinstance(exc, ImportError) and "pip install" in str(exc)):
        return EXIT_USAGE, message(exc)
    return EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {message(exc)}"


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
        args = build_parser().parse_args(argv)
        with _session(args):
            code = int(args.handler(args))
        if hasattr(args, "store_dir") and not getattr(args, "no_precomputed", False):
            _args.note_store(args, args.store_dir)  # e.g. ``sample``, which hands --store-dir to the library
        notice = _args.store_notice(args)  # where the store is, for every command that read or wrote it
        if notice:
            sys.stderr.write(f"pbufjax: {notice}\n")
        return code
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else EXIT_USAGE)
    except KeyboardInterrupt:
        sys.stderr.write("pbufjax: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the command line reports every error as one line
        if debug:
            import traceback

            traceback.print_exc()
        code, text = classify(exc)
        sys.stderr.write(f"pbufjax: error: {text}\n")
        if code == EXIT_INTERNAL and not debug:
            sys.stderr.write("pbufjax: this is a bug; rerun with --debug for the traceback\n")
        return code


__all__ = [
    "DEFAULT_MODEL",
    "EXIT_INTERNAL",
    "EXIT_NOT_CONVERGED",
    "EXIT_OK",
    "EXIT_USAGE",
    "FIT_COMMANDS",
    "OPTIMIZER_CHOICES_FALLBACK",
    "TOLERANCE_OPTION",
    "UsageError",
    "build_parser",
    "classify",
    "cmd_data_fetch",
    "cmd_data_info",
    "cmd_data_list",
    "cmd_data_verify",
    "cmd_fit",
    "cmd_integrity",
    "cmd_store_consistency",
    "cmd_store_export",
    "cmd_store_history",
    "cmd_store_repair",
    "cmd_store_show",
    "format_table",
    "jsonable",
    "main",
    "resolve_fit_settings",
    "run_fit_command",
]
