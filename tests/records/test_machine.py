def test_describe_names_cpu_cores_threads_and_gpu_or_its_absence():
    from bench.records.machine import describe

    cpu = {"cpu": "Test CPU", "cores": 2, "threads": 1, "gpu": None}
    assert describe(cpu) == "Test CPU, 2 cores, 1 threads; no GPU"
    gpu = cpu | {"gpu": "H200", "cuda": "12.8", "driver": "570.1"}
    assert describe(gpu) == "Test CPU, 2 cores, 1 threads; GPU H200 (CUDA 12.8, driver 570.1)"
    assert describe(float("nan")) == "unknown machine"  # a record without one, as pandas fills it
