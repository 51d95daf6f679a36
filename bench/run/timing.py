"""Clocks and threads: the same rules for every family."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bench.records.machine import usable_cores
from bench.records.output import warn
from models.base import synchronize

THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _busy_cores(window: float = 0.5) -> float:
    """Cores busy right now, from two reads of /proc/stat (1-minute load average lags)."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        return sum(fields), fields[3] + fields[4]  # total, idle + iowait

    total0, idle0 = read()
    time.sleep(window)
    total1, idle1 = read()
    cores = os.cpu_count() or 1
    return cores * (1 - (idle1 - idle0) / max(total1 - total0, 1))


def choose_threads(requested: int | None) -> int:
    """Threads for a run: free cores by default; a request beyond the usable cores is capped
    (OpenMP threads spin-wait: more threads than cores makes every family many times slower)."""
    if requested is None:
        return free_cores()
    if requested < 1:
        raise ValueError(f"--threads must be at least 1, got {requested}")
    usable = usable_cores()
    if requested > usable:
        warn(f"--threads {requested} > {usable} usable cores; using {usable}")
        return usable
    return requested


def free_cores() -> int:
    """Cores this process may use minus those busy now (at least 1).

    OpenMP threads spin-wait: more threads than free cores makes every family many times slower.
    """
    cores = usable_cores()
    try:
        busy = _busy_cores()
    except OSError:  # no /proc: fall back to the load average
        busy = os.getloadavg()[0]
    return max(1, cores - int(round(busy)))


def pin_threads(n: int) -> int:
    """Use ``n`` threads in torch and every OpenMP/BLAS pool; returns n."""
    n = max(1, int(n))
    for var in THREAD_ENV:
        os.environ[var] = str(n)
    import torch

    torch.set_num_threads(n)
    return n


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


def calibrate(repeats: int = 9) -> float:
    """Seconds for a fixed workload like ours (a small MLP's training steps); the best of repeats
    (the least disturbed run: the minimum is the steadiest statistic on a shared machine).

    Dividing times by it makes runs on faster or slower machines comparable (``bench compare``).
    """
    import torch

    gen = torch.Generator().manual_seed(0)
    X = torch.rand(256, 2, generator=gen)
    y = torch.randint(0, 3, (256,), generator=gen)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 3)
    )
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)
    times = []
    for i in range(repeats + 1):  # the first repeat pays one-off costs and is discarded
        start = time.perf_counter()
        for _ in range(200):
            loss = torch.nn.functional.cross_entropy(net(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if i:
            times.append(time.perf_counter() - start)
    return min(times)
