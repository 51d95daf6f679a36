"""The short list that proves the GPU path, for whoever has a GPU for a few minutes.

``python -m bench.studies.gpu_check`` on a CUDA machine: tests/run/test_cuda.py, the ``gpu`` suite
(seed datasets, every family, 3 seeds, cpu and cuda) with its tables, and trainer throughput on
cuda; everything under --out (default results/studies/gpu_check/), to be committed as it is.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench import ROOT
from bench.cli.common import Interrupted, add_run_options, execute
from bench.records import output
from bench.run import suites
from bench.studies import trainer_throughput

COMMAND = "python -m bench.studies.gpu_check"
CUDA_TESTS = "tests/run/test_cuda.py"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog=COMMAND, description=__doc__)
    add_run_options(ap, ROOT / "results" / "studies" / "gpu_check")
    args = ap.parse_args(argv)
    import torch

    try:
        if not torch.cuda.is_available():
            raise ValueError("no CUDA device here (torch.cuda.is_available() is False)")
        out = output.claim(args.out)
        tests = subprocess.run(
            [sys.executable, "-m", "pytest", CUDA_TESTS, "-m", "slow or not slow", "-p", "no:cacheprovider"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        (out / "test_cuda.log").write_text(tests.stdout + tests.stderr)
        print(f"{CUDA_TESTS}: exit {tests.returncode} (log in {out / 'test_cuda.log'})", file=sys.stderr)
        args.executor, args.ray_address, args.cell_timeout = "local", None, None
        status = execute(suites.SUITES["gpu"], args)
        status = max(status, trainer_throughput.main(["--device", "cuda", "--out", str(out / "throughput_cuda.md")]))
    except ValueError as exc:
        print(f"{COMMAND}: error: {output.one_line(exc)}", file=sys.stderr)
        return 2
    except Interrupted as exc:
        print(f"{COMMAND}: {exc}", file=sys.stderr)
        return exc.code
    return 1 if tests.returncode or status else 0


if __name__ == "__main__":
    raise SystemExit(main())
