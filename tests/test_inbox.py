"""Which inbox files are complete: settle time, ready markers, files changing while read."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flows.inbox import StillChanging, read_complete, scan_inbox, touch_ready_marker
from flows.settings import Intake


def _file(folder: Path, name: str, age_seconds: float, data: bytes = b"a,b\n1,2\n") -> Path:
    path = folder / name
    path.write_bytes(data)
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def test_settled_marked_fresh_and_ignored_files(tmp_path: Path):
    """Settled or marked ready: complete; fresh: in progress; hidden files, markers, folders: ignored."""
    settled = _file(tmp_path, "settled.csv", 600)
    fresh = _file(tmp_path, "fresh.csv", 5)
    marked = _file(tmp_path, "marked.csv", 1)
    touch_ready_marker(marked)
    _file(tmp_path, ".partial.csv.tmp", 600)
    (tmp_path / "sub").mkdir()

    scan = scan_inbox(tmp_path, Intake(settle_seconds=120), time.time())

    assert scan.complete == [marked, settled]
    assert list(scan.in_progress) == [fresh]
    assert "loaded once unchanged for 120 s" in scan.in_progress[fresh]
    assert {p.name: why for p, why in scan.ignored.items()} == {
        ".partial.csv.tmp": "hidden or temporary file",
        "marked.csv.ready": "ready marker",
        "sub": "not a regular file (sub-folders are not read)",
    }


def test_required_markers_wait_for_the_marker(tmp_path: Path):
    """With ready_marker: required, an old file without its marker is still waiting."""
    old = _file(tmp_path, "old.csv", 6000)
    scan = scan_inbox(tmp_path, Intake(ready_marker="required"), time.time())
    assert scan.complete == [] and scan.in_progress[old] == "waiting for its marker old.csv.ready"


def test_a_file_growing_while_read_is_not_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """If a writer appends while the bytes are read, the read is refused instead of loading half a file."""
    path = _file(tmp_path, "growing.csv", 600)
    original = Path.read_bytes

    def read_then_append(self: Path) -> bytes:
        data = original(self)
        with self.open("ab") as handle:  # the sender's copy goes on
            handle.write(b"3,4\n")
        return data

    monkeypatch.setattr(Path, "read_bytes", read_then_append)
    with pytest.raises(StillChanging, match=r"growing\.csv changed while it was read"):
        read_complete(path)
    monkeypatch.undo()
    assert read_complete(path) == b"a,b\n1,2\n3,4\n"


def test_a_stale_marker_does_not_vouch_for_a_new_upload(tmp_path: Path):
    """Yesterday's marker beside today's re-upload (same name, still copying) does not make it complete."""
    export = _file(tmp_path, "export.csv", 86_400)
    marker = touch_ready_marker(export)
    yesterday = time.time() - 86_000
    os.utime(marker, (yesterday, yesterday))
    export.write_bytes(b"a,b\n1,")  # today's copy, in progress

    scan = scan_inbox(tmp_path, Intake(settle_seconds=120), time.time())

    assert scan.complete == [] and export in scan.in_progress


def test_an_orphan_marker_is_reported(tmp_path: Path):
    """A marker whose file never arrived (or was removed) is listed, not skipped silently."""
    (tmp_path / "lost.csv.ready").touch()
    scan = scan_inbox(tmp_path, Intake(), time.time())
    assert scan.ignored == {
        tmp_path / "lost.csv.ready": "ready marker without its file (the file was not delivered, or was removed)"
    }


def test_redelivering_through_the_helper_refreshes_the_marker(tmp_path: Path):
    """A sender writing the same file again and then its marker (touch_ready_marker) is complete again."""
    export = _file(tmp_path, "export.csv", 600)
    marker = touch_ready_marker(export)
    old = time.time() - 300
    os.utime(marker, (old, old))
    export.write_bytes(b"a,b\n5,6\n")  # re-delivered ...
    touch_ready_marker(export)  # ... and marked again
    assert scan_inbox(tmp_path, Intake(settle_seconds=120), time.time()).complete == [export]
