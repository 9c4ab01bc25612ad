"""OpenBLAS limited to one thread around the scipy solvers.

scipy's L-BFGS-B calls OpenBLAS on vectors of a few entries; with OpenBLAS's worker threads
competing against JAX's for the same cores, each call can cost ~1 ms instead of ~10 µs. The
scipy optimizers therefore run with OpenBLAS limited to one thread (restored afterwards).
"""

from __future__ import annotations

from ..runtime import register_cache

_BLAS_HANDLES: list | None = None


def _forget_blas_handles() -> None:
    global _BLAS_HANDLES
    _BLAS_HANDLES = None


register_cache("fit.blas_handles", _forget_blas_handles)


def _blas_thread_handles() -> list:
    global _BLAS_HANDLES
    if _BLAS_HANDLES is None:
        import ctypes

        import scipy.linalg
        import scipy.optimize  # noqa: F401

        handles = []
        try:
            with open("/proc/self/maps") as fh:
                paths = sorted({ln.split()[-1] for ln in fh
                                if "openblas" in ln.lower() and ln.split()[-1].startswith("/")})
        except OSError:
            paths = []
        names = (
            ("scipy_openblas_get_num_threads", "scipy_openblas_set_num_threads"),
            ("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
            ("openblas_get_num_threads", "openblas_set_num_threads"),
            ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
        )
        for path in paths:
            try:
                lib = ctypes.CDLL(path)
            except OSError:
                continue
            for get, set_ in names:
                if hasattr(lib, get) and hasattr(lib, set_):
                    handles.append((getattr(lib, get), getattr(lib, set_)))
                    break
        _BLAS_HANDLES = handles
    return _BLAS_HANDLES


class single_threaded_blas:
    """Context manager: OpenBLAS limited to one thread inside, restored on exit (no-op
    where OpenBLAS is not found)."""

    def __enter__(self):
        self._saved = []
        for get, set_ in _blas_thread_handles():
            try:
                n = int(get())
                set_(1)
                self._saved.append((set_, n))
            except Exception:  # pragma: no cover - exotic BLAS builds
                pass
        return self

    def __exit__(self, *exc):
        for set_, n in self._saved:
            set_(n)
        return False

# ---------------------------------------------------------------------------


__all__ = ["single_threaded_blas"]
