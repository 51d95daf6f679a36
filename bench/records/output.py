"""Where bench may write: folders it owns, one run at a time, file names it made safe.

A folder is bench's when it is new, empty, or holds the marker file ``.bench-output``; bench
never writes into any other folder, nor onto a file that one of its commands reads.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import platform
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MARKER = ".bench-output"
LOCK = ".bench.lock"
MARKER_TEXT = (
    "This folder is written by bench (python -m bench): records.jsonl, tables, figures.\n"
    "bench writes only into folders that are new, empty or hold this file.\n"
)


def claim(folder: Path) -> Path:
    """Make ``folder`` bench's (create it, mark it) or raise ValueError saying why it is not."""
    folder = Path(folder)
    if str(folder) in ("", "."):
        folder = Path.cwd()
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"--out {folder} is a file, not a folder")
    if folder.is_dir() and not (folder / MARKER).is_file() and any(folder.iterdir()):
        raise ValueError(
            f"--out {folder} is not empty and not bench's (no {MARKER} file): bench writes only into new, "
            f"empty or bench-made folders; choose another, or `touch {folder / MARKER}` if it is bench's"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not (folder / MARKER).is_file():
            (folder / MARKER).write_text(MARKER_TEXT)
    except OSError as exc:
        raise ValueError(f"--out {folder}: cannot write there ({exc.strerror})") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"--out {folder}: cannot write there (read-only)")
    return folder


def owned(folder: Path) -> bool:
    """Whether ``folder`` carries bench's marker."""
    return (Path(folder) / MARKER).is_file()


def check_new_file(path: Path, *, inputs: list[Path], what: str) -> None:
    """Refuse to write ``path`` if it is an input, or an existing file bench did not make."""
    path = Path(path)
    for source in inputs:
        source = Path(source)
        source_file = source / "records.jsonl" if source.is_dir() else source
        if path.resolve() in (source.resolve(), source_file.resolve()):
            raise ValueError(f"{what} {path} is an input of this command; refusing to overwrite it")
    if path.is_dir():
        raise ValueError(f"{what} {path} is a folder")
    if path.exists() and not owned(path.parent):
        raise ValueError(f"{what} {path} exists and is not bench's; refusing to overwrite it")
    if not path.parent.is_dir() or not os.access(path.parent, os.W_OK):
        raise ValueError(f"{what} {path}: its folder does not exist or is not writable")


@contextmanager
def lock(folder: Path) -> Iterator[None]:
    """Hold ``folder``'s run lock (an OS lock, released even if the process is killed)."""
    path = Path(folder) / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = Path(path).read_text().strip() or "another process"
            raise ValueError(
                f"{folder} is in use by another bench run ({holder}); wait for it or use another --out"
            ) from None
        os.ftruncate(fd, 0)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        os.write(fd, f"pid {os.getpid()} on {platform.node()} since {now}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the lock


def safe_name(text: str) -> str:
    """``text`` as a file-name part: letters, digits, '.', '_' and '-' only, never a path."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", str(text)).strip(".")
    return name[:100] or "_"


def warn(message: str) -> None:
    """A warning: one line on stderr."""
    print(f"bench: warning: {message}", file=sys.stderr)


def one_line(exc: BaseException) -> str:
    """An exception's message as one line (its first), for `bench: error: ...`."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
