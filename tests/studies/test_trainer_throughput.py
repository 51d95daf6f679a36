"""python -m bench.studies.trainer_throughput: runs end to end (a quarter of the work) and writes its page."""

import pytest

from bench.studies import trainer_throughput


@pytest.mark.slow
def test_trainer_throughput_study_runs(tmp_path):
    out = tmp_path / "t.md"
    assert trainer_throughput.main(["--quick", "--threads", "1", "--out", str(out)]) == 0
    text = out.read_text()
    assert (
        text.startswith("<!-- made by `python -m bench.studies.trainer_throughput`") and "batched vs sequential" in text
    )


def test_trainer_throughput_refuses_cuda_without_a_gpu(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        return
    assert trainer_throughput.main(["--device", "cuda", "--out", str(tmp_path / "t.md")]) == 2
    assert "no CUDA device here" in capsys.readouterr().err and not (tmp_path / "t.md").exists()
