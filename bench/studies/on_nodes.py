"""A bench run on a Ray cluster of several nodes on this machine: ``python -m bench.studies.on_nodes``.

``python -m bench.studies.on_nodes --nodes 2 -- run --suite real --out out/real-ray``
starts a Ray cluster of ``--nodes`` nodes of ``--cpus`` CPUs each on 127.0.0.1 only
(``ray.cluster_utils.Cluster``, the cluster tests/run/test_ray.py uses), runs
``python -m bench <the arguments> --executor ray --ray-address <the cluster>`` in a child process,
and shuts the cluster down when it ends, on Ctrl-C too. The records name the node that ran each
cell; the page's header gives the run's wall time, first to last record. A rerun resumes: the
driver skips the cells already finished, whichever node ran them. Exit status: the run's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from bench import ROOT

COMMAND = "python -m bench.studies.on_nodes"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog=COMMAND, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--nodes", type=int, default=2, help="Ray nodes on this machine (default 2)")
    ap.add_argument("--cpus", type=int, default=1, help="CPUs each node offers (default 1: a cell each)")
    ap.add_argument(
        "bench", nargs=argparse.REMAINDER, help="after --: a bench command, e.g. run --suite real --out DIR"
    )
    args = ap.parse_args(argv)
    command = [a for a in args.bench if a != "--"]
    if args.nodes < 1 or args.cpus < 1:
        ap.error("--nodes and --cpus must be at least 1")
    if not command or command[0] not in ("run", "all", "sweep"):
        ap.error("give a bench command after --: run, all or sweep (e.g. -- run --suite real --out DIR)")
    if any(_sets_ours(arg) for arg in command):
        ap.error("--executor and --ray-address are this command's to set")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"  # every node on 127.0.0.1 (before ray is imported)
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        from ray.cluster_utils import Cluster
    except ImportError:
        print("bench: error: Ray is not installed; pip install '.[ray]'", file=sys.stderr)
        return 2
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": args.cpus, "include_dashboard": False})
    try:
        for _ in range(args.nodes - 1):
            cluster.add_node(num_cpus=args.cpus)
        cluster.wait_for_nodes()
        print(f"{args.nodes} Ray nodes of {args.cpus} CPU(s) at {cluster.address}", file=sys.stderr, flush=True)
        run = [sys.executable, "-m", "bench", *command, "--executor", "ray", "--ray-address", cluster.address]
        return subprocess.run(run, cwd=ROOT).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        cluster.shutdown()


def _sets_ours(arg: str) -> bool:
    """Whether a bench argument sets --executor or --ray-address: as a flag, in its --flag=value
    form, or abbreviated (argparse takes any unique prefix)."""
    name = arg.split("=", 1)[0]
    return (
        len(name) > 2
        and name.startswith("--")
        and any(flag.startswith(name) for flag in ("--executor", "--ray-address"))
    )


if __name__ == "__main__":
    sys.exit(main())
