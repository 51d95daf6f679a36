"""Clocks and threads: the same rules for every family."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def free_cores() -> int:
    """Cores this process may use minus the current 1-minute load (at least 1).

    OpenMP threads spin-wait: more threads than free cores makes every family many times slower.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores - int(round(os.getloadavg()[0])))


def pin_threads(n: int) -> int:
    """Use ``n`` threads in torch and every OpenMP/BLAS pool; returns n."""
    n = max(1, int(n))
    for var in THREAD_ENV:
        os.environ[var] = str(n)
    import torch

    torch.set_num_threads(n)
    return n


def synchronize(device: str) -> None:
    """Wait for queued GPU work so that a clock read afterwards is honest."""
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


@contextmanager
def timed(device: str) -> Iterator[dict]:
    """``with timed(device) as t: ...`` then ``t["seconds"]``: perf_counter, synchronised on CUDA."""
    out: dict = {}
    synchronize(device)
    start = time.perf_counter()
    try:
        yield out
    finally:
        synchronize(device)
        out["seconds"] = time.perf_counter() - start
