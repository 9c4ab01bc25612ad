"""``--sn-file``, ``--sn-cov``, ``--bao-file``, ``--bao-cov``: a user's own SN or BAO files on the command line.

Every command that takes ``--datasets`` takes them. Each table becomes a dataset named after
the file (``my_sne.csv`` -> ``my_sne``; ``user_sn`` / ``user_bao`` when the stem is a registered
dataset name), added to the ``--datasets`` list (or to the configuration file's datasets);
given without either, the files are the datasets (the command's default datasets are not
added). The formats are those of :mod:`pbufjax.data.user`. A bad file is a usage error
(exit code 2) whose one line names the file and the line::

    pbufjax fit --model lcdm --datasets cmb,bao --sn-file my_sne.csv --sn-cov my_sne_cov.txt --optimize H0,Om0
"""

from __future__ import annotations

import argparse

from .output import UsageError, message


def add_user_files(p: argparse.ArgumentParser) -> None:
    """Add the ``your own data`` option group (``--sn-file/--sn-cov/--bao-file/--bao-cov``)."""
    g = p.add_argument_group("your own data (added to --datasets; formats: documents/datasets_and_likelihoods.md)")
    g.add_argument("--sn-file", metavar="FILE",
                   help="SN table with a header: z_cmb (or zHD, z), optional z_hel, mu (or m_b), errors (mu_err, ...)")
    g.add_argument("--sn-cov", metavar="FILE",
                   help="covariance of --sn-file: a square matrix, or N then N*N values (default: diag(errors^2))")
    g.add_argument("--bao-file", metavar="FILE", help="BAO table: 'z value quantity [error]' per line")
    g.add_argument("--bao-cov", metavar="FILE", help="covariance of --bao-file (default: diag(errors^2))")


def user_file_datasets(args) -> list[str]:
    """Register the user files of the command line; return their dataset names (empty when none).

    Raises:
        UsageError: a covariance without its table, a missing or bad file (one line naming the file and line).
    """
    given = {k: getattr(args, k, None) for k in ("sn_file", "sn_cov", "bao_file", "bao_cov")}
    if not any(given.values()):
        return []
    from ..data import register_user_files

    try:
        return register_user_files(**given)
    except (ValueError, OSError) as exc:
        raise UsageError(message(exc)) from None


__all__ = ["add_user_files", "user_file_datasets"]
