"""Sampling, batch and figure subcommands (public module): re-exports :mod:`pbufjax.cli.sampling`.

``sample``, ``mocks``, ``profile`` and ``plot`` are part of the one ``pbufjax`` command line
(:mod:`pbufjax.cli`); :func:`main` and :func:`build_parser` are that command line's.
"""

from .cli import build_parser, main
from .cli.output import EXIT_NOT_CONVERGED, EXIT_OK, EXIT_USAGE
from .cli.plot import cmd_plot
from .cli.sampling import cmd_mocks, cmd_profile, cmd_sample, register

__all__ = ["EXIT_NOT_CONVERGED", "EXIT_OK", "EXIT_USAGE", "build_parser", "cmd_mocks", "cmd_plot", "cmd_profile",
           "cmd_sample", "main", "register"]
