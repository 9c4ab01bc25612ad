"""Errors raised by the parameter store."""

from __future__ import annotations

from pathlib import Path


class StoreError(Exception):
    """Base class of parameter-store errors."""


class StoreCorruptError(StoreError, ValueError):
    """A store file is not valid JSON or does not match the schema.

    Attributes:
        path: the offending file (left untouched).
        problem: what is wrong with it.
    """

    def __init__(self, path: Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(
            f"parameter store file {self.path} is unusable: {problem}. The file was left untouched; "
            f"run `pbufjax store repair --store-dir {self.path.parent}` to move it aside as a backup "
            "and rebuild the store, or fix it by hand"
        )


class StoreLockTimeout(StoreError, TimeoutError):
    """The store's inter-process lock could not be acquired in time."""


__all__ = ["StoreCorruptError", "StoreError", "StoreLockTimeout"]
