"""The one store for every JSON-lines file bench writes: records, history, power trials, speed runs.

Each line is appended with one ``write`` and fsync'd; a short write (disk full) is truncated back,
so the file never keeps half a line in its middle. On load, a last line without its newline that
does not parse (a run killed mid-write) is ignored with a warning; any other bad line is an error
naming the file and line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

from bench.records import machine, schema
from bench.records.output import warn


def _jsonable(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def append_line(path: Path, obj: dict) -> None:
    """Append ``obj`` as one line; on a short or failed write the file is cut back to where it was."""
    line = (json.dumps(obj, sort_keys=True, allow_nan=False, default=_jsonable) + "\n").encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        size = os.fstat(fd).st_size
        try:
            written = os.write(fd, line)
            if written != len(line):
                raise OSError(28, f"short write: {written} of {len(line)} bytes (disk full?)")
            os.fsync(fd)
        except OSError as exc:
            os.ftruncate(fd, size)  # no half line left for the next append to follow
            raise OSError(
                exc.errno, f"{path}: could not append a line ({exc.strerror or exc}); file left as it was"
            ) from None
    finally:
        os.close(fd)


def append(path: Path, record: dict) -> None:
    """Append one checked record."""
    schema.check(record)
    append_line(path, record)


def read_lines(path: Path, check: Callable[[object], dict] = lambda obj: obj) -> list[dict]:
    """Every line of a JSON-lines file through ``check`` (which raises ValueError for a bad one)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no records file at {path}")
    lines, torn = _lines(path, check)
    out = []
    for i, line in enumerate(lines, start=1):
        if line.strip():
            out.append(_parse(path, i, line, check))
    if torn is not None:
        warn(f"{path}:{len(lines) + 1}: incomplete last line (a run killed mid-write?) ignored")
    return out


def load(path: Path) -> list[dict]:
    """All records of a file, each checked (and upgraded) by :func:`bench.records.schema.check`."""
    return read_lines(path, schema.check)


def load_foreign(path: Path) -> list[dict]:
    """Records another commit's bench wrote (A/B gate, history): :func:`schema.check_foreign`."""
    return read_lines(path, schema.check_foreign)


def _lines(path: Path, check: Callable = schema.check) -> tuple[list[str], str | None]:
    """Complete lines, and the torn tail (None if the file ends cleanly or with a whole line)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a records file (binary data)") from None
    lines = text.split("\n")
    tail = lines.pop()
    if not tail.strip():
        return lines, None
    try:
        check(json.loads(tail))
    except ValueError:  # JSONDecodeError is a ValueError
        return lines, tail
    return lines + [tail], None


def _parse(path: Path, number: int, line: str, check: Callable) -> dict:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{number}: not a JSON record ({exc.msg})") from None
    try:
        return check(obj)
    except ValueError as exc:
        raise ValueError(f"{path}:{number}: not a bench record: {exc}") from None


def set_aside_torn(path: Path, check: Callable = schema.check) -> None:
    """Before appending: move a torn last line to ``<path>.torn`` (kept, not deleted) and end
    the file on a newline, so the next line starts on a line of its own."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) == b"\n":
            return
    lines, torn = _lines(path, check)
    if torn is None:  # a whole line without its newline
        with path.open("ab") as f:
            f.write(b"\n")
        return
    with open(f"{path}.torn", "ab") as f:
        f.write(torn.encode() + b"\n")
    keep = sum(len(line.encode()) + 1 for line in lines)
    os.truncate(path, keep)
    warn(f"{path}: incomplete last line moved to {path}.torn")


def latest(records: list[dict]) -> list[dict]:
    """The newest record of each cell key (a rerun replaces an earlier result)."""
    by_key: dict[str, dict] = {}
    for r in records:
        by_key[r["key"]] = r
    return list(by_key.values())


TIMED_OUT = "timed out"  # the start of a record's error when its cell ran past its budget


def finished_keys(path: Path, made_here: bool = False, on_ray: bool = False, budget: float | None = None) -> set[str]:
    """Keys of cells whose latest record is ok or skipped (failed cells are retried), or that ran
    past a budget (``budget_s``) at least ``budget`` seconds per cell (rerunning would only time out again).

    ``made_here``: only records made by this commit (``-dirty`` or not) on this machine count, so
    a fresh clone or a new commit measures again instead of reusing someone else's numbers.
    ``on_ray``: records that a Ray node made (they name it) count as this machine's too.
    """
    if not Path(path).exists():
        return set()
    done = [r for r in latest(load(path)) if r.get("status") in ("ok", "skipped") or _over_budget(r, budget)]
    if made_here:
        done = [r for r in done if _made_here(r, on_ray)]
    return {r["key"] for r in done}


def _over_budget(record: dict, budget: float | None) -> bool:
    spent = record.get("budget_s")
    return budget is not None and isinstance(spent, int | float) and spent >= budget


def _base_commit(commit: str | None) -> str:
    return (commit or "unknown").removesuffix("-dirty")


def _made_here(record: dict, on_ray: bool = False) -> bool:
    commit = _base_commit(record.get("commit"))
    return (
        commit != "unknown"
        and commit == _base_commit(machine.git_commit())
        and (
            machine.fingerprint(record.get("machine")) == machine.here() or (on_ray and record.get("node") is not None)
        )
    )


def write_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` whole or not at all (a temporary file renamed over it)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
