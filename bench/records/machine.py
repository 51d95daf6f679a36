"""Machine and code facts for every record: CPU, cores, GPU and driver, library versions, git commit."""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
from functools import cache
from importlib import metadata
from pathlib import Path

from bench import ROOT

LIBRARIES = ("torch", "numpy", "scikit-learn", "catboost", "xgboost", "tabm", "rtdl_num_embeddings", "pandas")
LIBRARIES += ("lightgbm", "pytabkit")  # the real suite's peers


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (containers)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    quota = _cgroup_quota()
    return max(1, min(cores, int(quota))) if quota else cores


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs allowed by the cgroup (v2 cpu.max, else v1 cfs quota), None when unlimited or unknown."""
    try:
        limit, period = (root / "cpu.max").read_text().split()[:2]
        return None if limit == "max" else int(limit) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return quota / period if quota > 0 and period > 0 else None
    except (OSError, ValueError):
        return None


def fingerprint(m: dict | None) -> tuple:
    """What identifies a machine: CPU model, cores, host name and GPU (not the threads used)."""
    m = m or {}
    return tuple(m.get(k) for k in ("cpu", "cores", "host", "gpu"))


@cache
def git_commit() -> str:
    """HEAD of the checkout, with ``-dirty`` when tracked files outside results/ differ from it
    (outputs a run rewrites do not change the code; ``$BENCH_COMMIT`` where the code runs as a
    copy without its git folder: a Ray worker)."""
    if os.environ.get("BENCH_COMMIT"):
        return os.environ["BENCH_COMMIT"]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "-uno", "--", ".", ":(exclude)results"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
    except OSError:
        return "unknown"
    if sha.returncode != 0:
        return "unknown"
    return sha.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@cache
def _static_machine() -> dict:
    import torch

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cores(),
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "gpu": None,
        "cuda": None,
    }
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        info |= {"gpu": props.name, "gpu_memory_mb": round(props.total_memory / 2**20), "cuda": torch.version.cuda}
        info |= _nvidia_smi()
    return info


def _nvidia_smi() -> dict:
    """Driver version and MIG mode of the current GPU (None where nvidia-smi cannot say in 10 s)."""
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=driver_version,mig.mode.current", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        driver, mig = (v.strip() for v in out.stdout.splitlines()[0].split(","))
        return {"driver": driver, "mig": mig} if out.returncode == 0 else {"driver": None, "mig": None}
    except (OSError, IndexError, ValueError, subprocess.TimeoutExpired):
        return {"driver": None, "mig": None}


def machine(threads: int) -> dict:
    """Where a record was made: CPU, cores, threads used, GPU and driver."""
    return _static_machine() | {"threads": threads}


def describe(m: object) -> str:
    """A record's machine in words: CPU, cores, threads and GPU (the tables', board's and gate's)."""
    if not isinstance(m, dict):
        return "unknown machine"
    gpu = f"; GPU {m['gpu']} (CUDA {m.get('cuda')}, driver {m.get('driver')})" if m.get("gpu") else "; no GPU"
    return f"{m.get('cpu')}, {m.get('cores')} cores, {m.get('threads')} threads{gpu}"


@cache
def versions() -> dict:
    out = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def here() -> tuple:
    """This machine's :func:`fingerprint`."""
    return fingerprint(_static_machine())
