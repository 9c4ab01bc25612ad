"""Bayesian evidence: priors (:mod:`.priors`), nested sampling on a batched likelihood
(:mod:`.nested`) and :func:`~.run.log_evidence` (nested or Laplace) on a configured fit
(:mod:`.run`). Importing it imports neither a nested-sampling library nor the fit layer
(:mod:`.priors` and :mod:`.run` load on first use of their names).
"""

from .nested import EVIDENCE_METHODS, NESTED_LIBRARIES, run_nested

_LAZY = {"EVIDENCE_PRIOR_TYPES": "priors", "EvidencePriors": "priors", "resolve_priors": "priors",
         "laplace": "run", "log_evidence": "run"}


def __getattr__(name: str):
    """The names of :mod:`.priors` and :mod:`.run`, imported on first access."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EVIDENCE_METHODS", "EVIDENCE_PRIOR_TYPES", "NESTED_LIBRARIES", "EvidencePriors", "laplace",
           "log_evidence", "resolve_priors", "run_nested"]
