"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path


def _file_mode() -> int:
    # mkstemp creates 0600 files; a report should get the permissions any new file gets here.
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_many(contents: dict[Path, bytes]) -> None:
    """Write several files so that they change together: every temp file first, then the renames.

    Each temp file sits in its target's folder and is fsynced. A failure while writing (disk
    full included) removes every temp file and leaves all the previous files intact. The
    renames run in the given order, so put a manifest last: a process killed between two
    renames leaves a manifest that no longer matches, which the next run detects.
    """
    temps: dict[Path, str] = {}
    mode = _file_mode()
    try:
        for path, data in contents.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
            temps[path] = tmp_name
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fchmod(tmp.fileno(), mode)
                os.fsync(tmp.fileno())
        for path, tmp_name in temps.items():
            os.replace(tmp_name, path)
    except BaseException:
        for tmp_name in temps.values():  # the ones already renamed are gone under this name
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write one file atomically (see atomic_write_many); a previous `path` stays intact on failure."""
    atomic_write_many({path: data})
    return path


def sweep_temp_files(*folders: Path) -> list[Path]:
    """Remove temp files a killed run left behind (`.NAME.XXXX.tmp`); call only while holding the run lock."""
    removed = []
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob(".*.tmp"):
            if path.is_file():
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                removed.append(path)
    return removed


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
