"""Analysis layer: what is done with a fit problem once it is built.

:mod:`~pbufjax.analysis.engine` (``run_fit``: fit, evaluate, per-dataset results),
:mod:`~pbufjax.analysis.uncertainties` (Hessian covariance, error propagation),
:mod:`~pbufjax.analysis.diagnostics` (best-fit ParameterDict and the diagnostics block),
:mod:`~pbufjax.analysis.statistics` (χ², DOF, AIC/BIC, p-values),
:mod:`~pbufjax.analysis.integrity` (compiled physics against independent references, data checks),
:mod:`~pbufjax.analysis.report` (logging, result tables),
:mod:`~pbufjax.analysis.plots` and :mod:`~pbufjax.analysis.inference_plots` (figures; helpers in
:mod:`~pbufjax.analysis.figures`).

Submodules are imported on use; importing this package loads none of them.
"""
