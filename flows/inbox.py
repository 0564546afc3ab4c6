"""Which inbox files are complete: a copy still in progress is never loaded.

A file is complete when a ready marker `NAME.ready` written after the file's last change
lies beside it (the sender writes it after copying), or - unless markers are required -
when its modification time is at least `intake.settle_seconds` old. Its bytes are then
read once, and the read is refused if the size or modification time moved meanwhile, so
the content loaded (and the hash recorded) is exactly what was complete. A copy tool that
sets an old modification time before writing defeats the age check: use markers with it.
Hidden files, editor lock files and orphan markers are listed as ignored, never skipped
silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flows.settings import Intake

READY_SUFFIX = ".ready"


@dataclass(frozen=True)
class InboxScan:
    complete: list[Path] = field(default_factory=list)
    in_progress: dict[Path, str] = field(default_factory=dict)  # path -> why it is not loaded yet
    ignored: dict[Path, str] = field(default_factory=dict)  # path -> why it is not a data file


def _ignored_reason(path: Path) -> str | None:
    if path.name.endswith(READY_SUFFIX):
        return "ready marker"
    if path.name.startswith(".") or path.name.startswith("~$") or path.name.endswith(("#", "~")):
        return "hidden or temporary file"
    if not path.is_file():
        return "not a regular file (sub-folders are not read)"
    return None


def _marked_ready(path: Path) -> bool:
    """A marker counts only if written after the file's last change: yesterday's marker beside
    today's re-upload under the same name says nothing about the new copy."""
    marker = path.with_name(path.name + READY_SUFFIX)
    try:
        return marker.stat().st_mtime_ns >= path.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def _age(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def scan_inbox(inbox: Path, intake: Intake, now: float) -> InboxScan:
    """Sort every entry of `inbox` into complete, in progress and ignored (`now`: a time.time() value)."""
    scan = InboxScan()
    for path in sorted(inbox.iterdir()):
        if (reason := _ignored_reason(path)) is not None:
            if reason == "ready marker" and not path.with_name(path.name.removesuffix(READY_SUFFIX)).exists():
                reason = "ready marker without its file (the file was not delivered, or was removed)"
            scan.ignored[path] = reason
            continue
        if _marked_ready(path):
            scan.complete.append(path)
        elif intake.ready_marker == "required":
            scan.in_progress[path] = f"waiting for its marker {path.name}{READY_SUFFIX}"
        else:
            age = now - path.stat().st_mtime
            if age >= intake.settle_seconds:
                scan.complete.append(path)
            else:
                scan.in_progress[path] = (
                    f"last changed {_age(max(age, 0))} ago; loaded once unchanged for {intake.settle_seconds} s"
                )
    return scan


class StillChanging(Exception):
    """The file changed while it was read: it is still being written."""


def read_complete(path: Path) -> bytes:
    """The file's bytes, read once; raises StillChanging if its size or mtime moved meanwhile."""
    before = path.stat()
    data = path.read_bytes()
    after = path.stat()
    if len(data) != before.st_size or (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise StillChanging(f"{path.name} changed while it was read ({len(data):,} of {after.st_size:,} bytes)")
    return data


def touch_ready_marker(path: Path) -> Path:
    """Write `NAME.ready` beside a complete file (what a sender does after copying it)."""
    marker = path.with_name(path.name + READY_SUFFIX)
    marker.touch()  # new, or refreshed: a marker counts only if newer than the file (a re-delivery)
    return marker
