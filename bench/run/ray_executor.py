"""Cells on Ray: each group of cells (one batched fit of seeds) is one Ray task.

The runner stays the only writer of records.jsonl (it skips finished cells before anything is
submitted, and appends each task's records as the task completes); this module only turns groups
into records. A task asks for ``num_cpus`` = the threads of its cells (``num_gpus=1`` for cuda
cells), so a node never runs more cells at once than its cores (or GPUs) allow, and it runs in
a fresh worker process (``max_calls=1``: no leaked threads or memory between groups). Inside the
task: threads pinned (environment before the imports, then torch), an untimed warm-up, the
calibration beside the fits, the worker's peak memory and the node recorded. A task whose worker
or node dies is retried ``max_retries`` times (system failures only, never an exception of the
code) and then recorded as failed with the reason.

Without an address bench starts a private Ray on this machine, bound to 127.0.0.1 only
(``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` before Ray is imported keeps every address loopback);
``address="auto"`` or ``ray://host:10001`` joins a running cluster, which must have this
project's dependencies installed (the code itself is shipped with the job).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from bench import ROOT
from bench.run.suites import Cell

MAX_RETRIES = 1  # system failures (worker or node died) retried this often before "failed"
CONNECT_DEADLINE_S = 20.0  # joining a cluster: past this, one line and exit 2 (Ray itself retries for minutes)
EXCLUDES = [".git", ".venv", "results", "build", "*.egg-info", "__pycache__", ".pytest_cache"]


def _loopback_only() -> None:
    if "ray" in sys.modules and os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER") != "0":
        raise RuntimeError(
            "ray was imported before bench could keep it on 127.0.0.1; set RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0"
        )
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"


@contextlib.contextmanager
def _deadline(seconds: float, message: str):
    """Raise ValueError(message) if the block runs past ``seconds`` (main thread: SIGALRM; elsewhere none)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum, frame):
        raise TimeoutError

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TimeoutError:
        raise ValueError(f"{message} within {seconds:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError('--executor ray needs Ray: pip install ".[ray]"') from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    """``ray://host:port`` or ``host:port`` -> (host, port); ValueError for anything else."""
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--ray-address {address!r}: expected 'auto', ray://HOST:PORT or HOST:PORT")
    return host.strip("[]"), int(port)


def check_options(address: str | None, deadline_s: float = CONNECT_DEADLINE_S) -> None:
    """Before any folder is made: Ray installed, and an ``address`` that can be reached within
    ``deadline_s`` (a TCP connection to it; 'auto' needs a cluster that `ray start` made here)."""
    import socket

    if _ray_spec() is None:
        raise ValueError('--executor ray needs Ray: pip install ".[ray]"')
    if address is None:
        return
    if address == "auto":
        if not Path("/tmp/ray/ray_current_cluster").exists():
            raise ValueError(
                "--ray-address auto: no Ray cluster started on this machine (run `ray start --head` first)"
            )
        return
    host, port = _host_port(address)
    try:
        socket.create_connection((host, port), timeout=deadline_s).close()
    except OSError as exc:
        raise ValueError(f"--ray-address {address}: cannot reach a Ray cluster there ({exc.strerror or exc})") from None


def _ray_spec():
    import importlib.util

    return importlib.util.find_spec("ray")


class RayExecutor:
    """``with RayExecutor(address) as ex: for group, records in ex.run(groups, threads, batch): ...``"""

    def __init__(self, address: str | None = None, *, max_retries: int = MAX_RETRIES) -> None:
        self.address = address
        self.max_retries = max_retries
        self.started = False
        self.startup_s = 0.0

    def __enter__(self) -> RayExecutor:
        import time

        if self.address is None:
            _loopback_only()
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray = _import_ray()
        start = time.perf_counter()
        env = {"env_vars": {"BENCH_COMMIT": _commit(), "PYTHONPATH": _pythonpath()}}
        runtime_env = env | {"working_dir": str(ROOT), "excludes": EXCLUDES}
        try:
            if ray.is_initialized():  # a cluster the caller connected to (tests: ray.cluster_utils), same disk
                # working_dir can be uploaded at the job level only: point the tasks at this checkout.
                paths = os.pathsep.join([str(ROOT), env["env_vars"]["PYTHONPATH"]])
                self.runtime_env = {"env_vars": env["env_vars"] | {"PYTHONPATH": paths}}
            else:
                where = {"address": self.address} if self.address else {"_node_ip_address": "127.0.0.1"}
                private = {} if self.address else {"include_dashboard": False, "configure_logging": False}
                joining = _deadline(CONNECT_DEADLINE_S, f"--ray-address {self.address}: no Ray cluster answered")
                with joining if self.address else contextlib.nullcontext():
                    ray.init(**where, **private, runtime_env=runtime_env, log_to_driver=False)
                self.started, self.runtime_env = True, None
        except ConnectionError as exc:
            raise ValueError(f"--ray-address {self.address}: cannot reach a Ray cluster ({exc})") from None
        self.startup_s = time.perf_counter() - start
        return self

    def __exit__(self, *exc) -> None:
        if self.started:
            import ray

            ray.shutdown()

    def describe(self) -> str:
        import ray

        nodes = [n for n in ray.nodes() if n.get("Alive")]
        res = ray.cluster_resources()
        gpus = f", {res['GPU']:g} GPUs" if res.get("GPU") else ""
        return f"ray: {len(nodes)} node{'s' * (len(nodes) != 1)}, {res.get('CPU', 0):g} CPUs{gpus}"

    def has_gpu(self) -> bool:
        import ray

        return ray.cluster_resources().get("GPU", 0) > 0

    def run(
        self, groups: list[list[Cell]], threads: int, batch_seeds: bool, timeout: float | None = None
    ) -> Iterator[tuple[list[Cell], list[dict]]]:
        """Submit every group; yield (group, records) in the order they finish. ``timeout``: seconds
        per cell, enforced inside the task exactly as a local run does (a child process killed past it).

        On any exit before the end (Ctrl-C, an error in the driver) the outstanding tasks are cancelled."""
        import ray

        remote = ray.remote(max_calls=1)(_group_task)  # max_calls is fixed at decoration, not in .options()
        pending = {}
        for group in groups:
            options = {
                "num_cpus": threads,
                "num_gpus": 1 if group[0].device == "cuda" else 0,
                "max_retries": self.max_retries,
                "retry_exceptions": False,
            }
            if self.runtime_env:
                options["runtime_env"] = self.runtime_env
            ref = remote.options(**options).remote(group, threads, batch_seeds, timeout)
            pending[ref] = group
        try:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                group = pending.pop(done[0])
                yield group, _result(ray, done[0], group, threads)
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)


def _result(ray, ref, group: list[Cell], threads: int) -> list[dict]:
    """The task's records, or every cell of the group failed with why the task died."""
    from bench.run import runner

    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"ray task died: {type(exc).__name__}: {reason}"[:300]
        return [runner.new_record(c, threads, error=error) for c in group]


def _group_task(group: list[Cell], threads: int, batch_seeds: bool, timeout: float | None = None) -> list[dict]:
    """Runs on a Ray worker: the group's records, stamped with the node and the worker's peak memory."""
    import resource

    from bench.run.timing import pin_threads

    pin_threads(threads)  # the thread variables are set before torch (then the GBDT libraries) is imported
    import ray

    from bench.run import runner

    if timeout is None:
        recs = runner.group_records(group, threads, batch_seeds)
    else:  # the same budget as a local run: the group in a child process, killed past it
        recs = runner.run_isolated(group, threads, batch_seeds, timeout)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    node = ray.get_runtime_context().get_node_id()[:12]
    return [r | {"peak_rss_mb": round(peak_mb, 1), "node": node} for r in recs]


def _commit() -> str:
    from bench.records import machine

    return machine.git_commit()


def _pythonpath() -> str:
    """Where a plug-in named ``module:factory`` may live: the driver's folder and its PYTHONPATH."""
    parts = [str(Path.cwd())] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return os.pathsep.join(dict.fromkeys(parts))
