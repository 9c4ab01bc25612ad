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


class StoreInvalidValue(StoreError, ValueError):
    """A store file holds a parameter value that is not a finite number inside the parameter's valid range.

    The file itself is usable: reads ignore the value (with one warning) and
    ``pbufjax store repair`` moves it to the file's ``quarantined_parameters`` section.

    Attributes:
        path: the store file.
        parameter: the parameter's name.
        value: the stored value (as decoded from JSON).
        problem: what is wrong with it, with the valid range.
    """

    def __init__(self, path: Path, parameter: str, value: object, problem: str):
        self.path = Path(path)
        self.parameter = parameter
        self.value = value
        self.problem = problem
        super().__init__(
            f"parameter store file {self.path}: {problem}; the value is ignored; run "
            f"`pbufjax store repair --store-dir {self.path.parent}` to move it to the file's quarantine section"
        )


class StoreLockTimeout(StoreError, TimeoutError):
    """The store's inter-process lock could not be acquired in time."""


__all__ = ["StoreCorruptError", "StoreError", "StoreInvalidValue", "StoreLockTimeout"]
