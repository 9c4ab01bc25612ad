"""Interfaces through which other tools call pbufjax's likelihoods.

:mod:`.cobaya`: :class:`~pbufjax.interop.cobaya.PbufjaxLikelihood`, a Cobaya likelihood
(``pip install "pbufjax[cobaya]"``). Importing this package imports no optional library.
"""

__all__: list[str] = []
