"""tests/e2e/clear_scan.py: what holds a model in clear is found; links, missing folders and
files that vanish mid-scan (another run's, in the machine's scratch folder) are not."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.clear_scan import files_holding


def test_files_holding_the_weights_are_found_and_links_are_not(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "weights.bin").write_bytes(b"..secret-weights..")
    (tmp_path / "a" / "other.txt").write_bytes(b"nothing")
    (tmp_path / "a" / "link").symlink_to(tmp_path / "a" / "b" / "weights.bin")
    found = files_holding([tmp_path / "a", tmp_path / "missing"], [b"secret-weights"])
    assert found == [tmp_path / "a" / "b" / "weights.bin"]


def test_a_file_removed_as_it_is_reached_is_passed_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "kept.bin").write_bytes(b"secret")
    (tmp_path / "going.bin").write_bytes(b"secret")
    read = Path.read_bytes

    def racing(path: Path) -> bytes:
        if path.name == "going.bin":
            path.unlink()  # its own run removed it between the listing and the read
        return read(path)

    monkeypatch.setattr(Path, "read_bytes", racing)
    assert files_holding([tmp_path], [b"secret"]) == [tmp_path / "kept.bin"]
