"""Bayesian evidence of a model on datasets (public module; the implementation is
:mod:`pbufjax.inference.evidence`: :mod:`~pbufjax.inference.evidence.priors`,
:mod:`~pbufjax.inference.evidence.nested`, :mod:`~pbufjax.inference.evidence.run`)."""

from .inference.evidence.nested import EVIDENCE_METHODS, NESTED_LIBRARIES, run_nested
from .inference.evidence.priors import EVIDENCE_PRIOR_TYPES, EvidencePriors
from .inference.evidence.run import log_evidence

__all__ = ["EVIDENCE_METHODS", "EVIDENCE_PRIOR_TYPES", "NESTED_LIBRARIES", "EvidencePriors", "log_evidence",
           "run_nested"]
