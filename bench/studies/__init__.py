"""Measurements of bench itself, each named after the page it writes, each run as
``python -m bench.studies.<name>``: gate_power, bench_all_speed, ray_vs_local, trainer_throughput,
decision_regions (fits models), gpu_check, search_cost; on_nodes runs a bench
command on a Ray cluster of several nodes on this machine. A leaf: nothing outside this package imports it."""
