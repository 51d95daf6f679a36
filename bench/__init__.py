"""bench: run model families over generated datasets and report honest tables.

Run from the checkout: ``python -m bench all``. ``datasets`` and ``models`` are this repository's
top-level packages; they are never installed into site-packages (see pyproject.toml), so they
cannot shadow, or be shadowed by, Hugging Face's ``datasets`` or anything else a user has.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path[:1] != [str(ROOT)]:
    sys.path.insert(0, str(ROOT))


def _check_own(name: str) -> None:
    module = sys.modules.get(name) or __import__(name)
    where = Path(getattr(module, "__file__", "") or "").resolve()
    if ROOT not in where.parents:
        raise ImportError(f"'{name}' resolved to {where}, not this checkout's {ROOT / name}; run from the checkout")


for _name in ("datasets", "models"):
    _check_own(_name)
