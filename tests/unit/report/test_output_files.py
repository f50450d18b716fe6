"""Where a report is written (`--output`, `export --output`): a file is replaced whole and
keeps its mode; a link's target is replaced, not the link; a FIFO or a device is written
into, never replaced."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from reconcile_tui.errors import BadInput
from reconcile_tui.files import write_atomically


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o604])
def test_a_replaced_file_keeps_its_mode(tmp_path, mode):
    report = tmp_path / "report.json"
    report.write_bytes(b"old")
    report.chmod(mode)
    write_atomically(report, b"new")
    assert report.read_bytes() == b"new"
    assert _mode(report) == mode


def test_a_new_file_honours_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomically(tmp_path / "new.csv", b"x")
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.csv") == 0o640


def test_a_link_to_a_file_replaces_the_target_and_keeps_the_link(tmp_path):
    target = tmp_path / "reports" / "latest.xml"
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o600)
    link = tmp_path / "report.xml"
    link.symlink_to(Path("reports") / "latest.xml")  # relative, as people make them
    write_atomically(link, b"new")
    assert link.is_symlink()
    assert os.readlink(link) == str(Path("reports") / "latest.xml")
    assert target.read_bytes() == b"new"
    assert _mode(target) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["latest.xml"]  # no temp left


def test_a_dangling_link_creates_its_target(tmp_path):
    link = tmp_path / "report.md"
    link.symlink_to(tmp_path / "made-later.md")
    write_atomically(link, b"# hi\n")
    assert link.is_symlink()
    assert (tmp_path / "made-later.md").read_bytes() == b"# hi\n"


def _read_fifo_in_a_thread(fifo: Path) -> tuple[threading.Thread, list[bytes]]:
    received: list[bytes] = []

    def read() -> None:
        with fifo.open("rb") as stream:
            received.append(stream.read())

    reader = threading.Thread(target=read)
    reader.start()
    return reader, received


@pytest.mark.parametrize("through_a_link", [False, True], ids=["fifo", "link-to-fifo"])
def test_a_fifo_is_written_into_and_stays_a_fifo(tmp_path, through_a_link):
    fifo = tmp_path / "report.pipe"
    os.mkfifo(fifo)
    path = fifo
    if through_a_link:
        path = tmp_path / "report.link"
        path.symlink_to(fifo)
    reader, received = _read_fifo_in_a_thread(fifo)
    write_atomically(path, b"the whole report\n" * 10_000)
    reader.join()
    assert received == [b"the whole report\n" * 10_000]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        {"report.pipe", path.name}
    )  # nothing else left behind


def test_a_character_device_is_written_into_not_replaced():
    write_atomically(Path("/dev/null"), b"discarded")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_device_that_refuses_the_write_is_one_clear_error():
    with pytest.raises(BadInput, match=r"^/dev/full: cannot write \(No space left on device\)$"):
        write_atomically(Path("/dev/full"), b"x" * 100_000)


def test_a_descriptor_opened_for_appending_is_appended_to(tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_bytes(b"earlier step\n")
    with summary.open("ab") as held:
        write_atomically(Path(f"/dev/fd/{held.fileno()}"), b"## report\n")
    assert summary.read_bytes() == b"earlier step\n## report\n"
