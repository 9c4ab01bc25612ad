"""Cross-model consistency of the shared parameters (H0, Om0, Obh2, ns).

For each shared parameter :math:`p` the divergence across models is
:math:`(\\max_m p_m - \\min_m p_m) / \\langle |p_m| \\rangle_m`; above
:data:`CONSISTENCY_TOLERANCE` the models disagree on the common background.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: Parameters shared by every model, compared by the cross-model consistency check.
SHARED_PARAMETERS = ("H0", "Om0", "Obh2", "ns")
#: Relative divergence above which the consistency check logs a warning.
CONSISTENCY_TOLERANCE = 0.01


def divergence(values: Mapping[str, float]) -> float:
    """Relative spread ``(max - min) / mean(|value|)`` of one parameter across models (0 for fewer than two).

    Example:
        >>> round(divergence({"lcdm": 67.0, "pbuf": 68.0}), 6)
        0.014815
    """
    arr = np.array(list(values.values()), dtype=float)
    if arr.size < 2:
        return 0.0
    scale = float(np.mean(np.abs(arr)))
    return float((arr.max() - arr.min()) / scale) if scale > 0 else float(arr.max() - arr.min())


def cross_model_report(defaults: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Values of the shared parameters per model and their relative divergence.

    Args:
        defaults: ``{model: parameter dict}``.

    Returns:
        ``{param: {"values": {model: value}, "divergence": float, "consistent": bool}}``.
    """
    report = {}
    for p in SHARED_PARAMETERS:
        vals = {m: float(v[p]) for m, v in defaults.items() if p in v}
        div = divergence(vals)
        report[p] = {"values": vals, "divergence": div, "consistent": div <= CONSISTENCY_TOLERANCE}
    return report


__all__ = ["CONSISTENCY_TOLERANCE", "SHARED_PARAMETERS", "cross_model_report", "divergence"]
