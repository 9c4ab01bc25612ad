"""Several cooperating processes through JAX's own multi-controller runtime (``jax.distributed``).

pbufjax builds no distribution engine of its own: :func:`initialize` validates the
process layout and calls :func:`jax.distributed.initialize`; from then on ``jax.devices()``
lists the devices of *every* process, and :class:`pbufjax.inference.sharding.BatchRunner`
lays each chunk of a batch out over all of them (a global :class:`jax.sharding.Mesh`; each
process feeds the rows that land on its own devices) and gathers the results on every
process. Process 0 writes the output files; every output records ``n_processes`` and
``n_devices``. Nothing in the user's code changes: the same ``fit_mocks`` call runs on one
process or on N.

Which layout applies
--------------------
* ``coordinator``, ``num_processes`` and ``process_id`` all given (``--coordinator
  HOST:PORT --num-processes N --process-id I``): exactly that layout.
* ``auto=True`` (``--distributed auto``) without them: JAX's own detection
  (``JAX_COORDINATOR_ADDRESS``/``JAX_NUM_PROCESSES``/``JAX_PROCESS_ID``, SLURM, Open MPI,
  Kubernetes, TPU pods) — asked for explicitly, so that a single run inside a SLURM
  allocation does not wait for peers that were never started.
* neither: one process (nothing is initialized).

On CPU the cross-process collectives are JAX's ``gloo`` implementation
(``jax_cpu_collectives_implementation``), set before the runtime starts.

An unreachable coordinator is reported within ``timeout`` seconds as a
:class:`DistributedError` (a ``ValueError``; exit code 2 on the command line): a process
other than 0 first checks that the coordinator's port accepts connections, retrying until
the timeout, because JAX's client aborts the process (no Python exception) when it cannot
register.
"""

from __future__ import annotations

import logging
import socket
import time
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

#: Seconds a process waits for the coordinator (and JAX's runtime for all processes) by default.
DEFAULT_TIMEOUT = 120

_STATE: dict[str, Any] = {"initialized": False}


class DistributedError(ValueError):
    """A process layout that cannot be used (bad numbers, unreachable coordinator)."""


def parse_address(address: str) -> tuple[str, int]:
    """``"HOST:PORT"`` -> ``(host, port)``.

    Raises:
        DistributedError: no port, or a port outside 1..65535.
    """
    host, sep, port = str(address).rpartition(":")
    if not sep or not host:
        raise DistributedError(f"coordinator {address!r}: expected HOST:PORT (e.g. 10.0.0.1:12345)")
    try:
        number = int(port)
    except ValueError:
        raise DistributedError(f"coordinator {address!r}: port {port!r} is not a number") from None
    if not 1 <= number <= 65535:
        raise DistributedError(f"coordinator {address!r}: port must be in 1..65535, got {number}")
    return host.strip("[]"), number


def check_layout(coordinator: str | None, num_processes: int | None, process_id: int | None) -> None:
    """Validate an explicit process layout.

    Raises:
        DistributedError: only some of the three given, ``num_processes < 1``,
            ``process_id`` outside ``0..num_processes-1``, a malformed address.
    """
    given = {"coordinator": coordinator, "num_processes": num_processes, "process_id": process_id}
    missing = [k for k, v in given.items() if v is None]
    if len(missing) not in (0, 3):
        have = ", ".join(k for k in given if k not in missing)
        raise DistributedError(f"a distributed run needs coordinator, num_processes and process_id together; "
                               f"got {have} without {', '.join(missing)}")
    if missing:
        return
    if isinstance(num_processes, bool) or not isinstance(num_processes, (int, np.integer)) or num_processes < 1:
        raise DistributedError(f"num_processes must be an integer >= 1, got {num_processes!r}")
    if isinstance(process_id, bool) or not isinstance(process_id, (int, np.integer)) or not (
            0 <= process_id < num_processes):
        raise DistributedError(f"process_id must be in 0..{num_processes - 1} (num_processes = {num_processes}), "
                               f"got {process_id!r}")
    parse_address(coordinator)


def wait_for_coordinator(address: str, timeout: float) -> None:
    """Return once ``HOST:PORT`` accepts a TCP connection.

    Raises:
        DistributedError: not reachable within ``timeout`` seconds.
    """
    host, port = parse_address(address)
    deadline = time.monotonic() + float(timeout)
    last = None
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(2.0, max(float(timeout), 0.1))):
                return
        except OSError as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise DistributedError(f"coordinator {address} not reachable within {timeout:g} s ({last}); start "
                                   f"process 0 there, or check the address and port")
        time.sleep(0.2)


def initialize(coordinator: str | None = None, num_processes: int | None = None, process_id: int | None = None,
               *, auto: bool = False, timeout: float = DEFAULT_TIMEOUT) -> dict[str, int]:
    """Join a multi-process run (see the module docstring); a no-op for one process.

    Must run before JAX has started its backends (before any computation).

    Args:
        coordinator: ``HOST:PORT`` of process 0's coordinator service.
        num_processes: number of processes (≥ 1).
        process_id: this process, ``0..num_processes-1``.
        auto: use JAX's environment variables / cluster detection when the three are absent.
        timeout: seconds to wait for the coordinator and for every process to join.

    Returns:
        :func:`process_info`.

    Raises:
        DistributedError: as :func:`check_layout`, an unreachable coordinator, a runtime
            that was already initialized with another layout, or JAX refusing to start.
    """
    import jax

    check_layout(coordinator, num_processes, process_id)
    if not float(timeout) > 0:
        raise DistributedError(f"timeout must be > 0 seconds, got {timeout!r}")
    explicit = coordinator is not None
    if not explicit and not auto:
        return process_info()
    if explicit and int(num_processes) == 1:
        return process_info()
    if _STATE["initialized"]:
        want = (coordinator, num_processes, process_id)
        if explicit and _STATE.get("layout") != want:
            raise DistributedError(f"jax.distributed is already initialized with {_STATE.get('layout')}, not {want}")
        return process_info()
    if explicit and int(process_id) != 0:
        wait_for_coordinator(coordinator, timeout)
    try:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
    except Exception:  # noqa: BLE001  # pragma: no cover - option absent in another JAX
        logger.debug("jax_cpu_collectives_implementation not set")
    try:
        if explicit:
            jax.distributed.initialize(coordinator, int(num_processes), int(process_id),
                                       initialization_timeout=max(int(timeout), 1))
        else:
            jax.distributed.initialize(initialization_timeout=max(int(timeout), 1))
    except (RuntimeError, ValueError) as exc:
        raise DistributedError(f"jax.distributed.initialize failed: {exc}") from None
    _STATE.update(initialized=True, layout=(coordinator, num_processes, process_id))
    info = process_info()
    logger.info("process %d of %d: %d local of %d devices", info["process_id"], info["n_processes"],
                info["n_local_devices"], info["n_devices"])
    return info


def process_info() -> dict[str, int]:
    """``{"n_processes", "process_id", "n_devices" (all processes), "n_local_devices"}``."""
    import jax

    return {"n_processes": int(jax.process_count()), "process_id": int(jax.process_index()),
            "n_devices": len(jax.devices()), "n_local_devices": len(jax.local_devices())}


def is_main() -> bool:
    """True in process 0 (the one that writes files), and in a single-process run."""
    import jax

    return jax.process_index() == 0


def multi_process() -> bool:
    """True when more than one process takes part."""
    import jax

    return jax.process_count() > 1


def broadcast(values) -> np.ndarray:
    """Process 0's ``values`` (an integer array of the same shape on every process), on every process."""
    arr = np.asarray(values, np.int64)
    if not multi_process():
        return arr
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.broadcast_one_to_all(arr), np.int64)


def on_main(fn, what: str):
    """Run ``fn()`` on process 0 only and tell every process whether it raised.

    Returns:
        ``fn()`` on process 0, ``None`` elsewhere.

    Raises:
        The exception of ``fn`` on process 0; elsewhere a :class:`DistributedError` naming ``what``.
    """
    if not multi_process():
        return fn()
    result, error = None, None
    if is_main():
        try:
            result = fn()
        except Exception as exc:  # noqa: BLE001 - re-raised below, after the others are told
            error = exc
    failed = int(broadcast([error is not None])[0])
    if error is not None:
        raise error
    if failed:
        raise DistributedError(f"{what} failed on process 0 (see its error)")
    return result


__all__ = ["DEFAULT_TIMEOUT", "DistributedError", "broadcast", "check_layout", "initialize", "is_main",
           "multi_process", "on_main", "parse_address", "process_info", "wait_for_coordinator"]
