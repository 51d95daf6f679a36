"""Running cells: named suites, the runner (the only writer of records.jsonl), executors (local,
isolated child processes, Ray) and the timing rules."""
