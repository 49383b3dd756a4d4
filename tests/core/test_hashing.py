"""Content hashes pin every artifact; the same folder must always give the same hash."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from medval.core.errors import HashMismatch, InvalidInput
from medval.core.hashing import (
    pack_directory,
    sha256_bytes,
    tree_hash,
    unpack_archive,
    verify_sha256,
)


def make_tree(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_text("alpha")
    (root / "sub" / "b.csv").write_text("id,x\n1,2\n")
    return root


def test_pack_is_deterministic_across_copies_and_mtimes(tmp_path: Path) -> None:
    first = make_tree(tmp_path / "one")
    second = make_tree(tmp_path / "two")
    (second / "a.txt").touch()  # a newer mtime must not change the archive
    assert pack_directory(first) == pack_directory(second)


def test_pack_changes_when_a_byte_changes(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "cube")
    before = sha256_bytes(pack_directory(folder))
    (folder / "sub" / "b.csv").write_text("id,x\n1,3\n")
    assert sha256_bytes(pack_directory(folder)) != before


def test_pack_then_unpack_round_trips(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "cube")
    unpack_archive(pack_directory(folder), tmp_path / "out")
    assert (tmp_path / "out" / "sub" / "b.csv").read_text() == "id,x\n1,2\n"
    assert tree_hash(folder) == tree_hash(tmp_path / "out")


def test_tree_hash_covers_names_and_contents(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "data")
    before = tree_hash(folder)
    (folder / "a.txt").rename(folder / "c.txt")
    assert tree_hash(folder) != before


def test_tree_hash_distinguishes_which_root_a_file_is_in(tmp_path: Path) -> None:
    data, labels = tmp_path / "data", tmp_path / "labels"
    data.mkdir()
    labels.mkdir()
    (data / "f").write_text("x")
    moved = tree_hash(data, labels)
    (data / "f").rename(labels / "f")
    assert tree_hash(data, labels) != moved


def test_symlinks_are_refused(tmp_path: Path) -> None:
    folder = make_tree(tmp_path / "cube")
    (folder / "link").symlink_to("/etc/passwd")
    with pytest.raises(InvalidInput, match="symbolic links"):
        pack_directory(folder)
    with pytest.raises(InvalidInput, match="symbolic links"):
        tree_hash(folder)


def test_unpack_refuses_members_that_escape(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(InvalidInput, match="escapes"):
        unpack_archive(buffer.getvalue(), tmp_path / "out")
    assert not (tmp_path / "escaped.txt").exists()


def test_unpack_refuses_garbage(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="not a valid archive"):
        unpack_archive(b"not a tarball", tmp_path / "out")


def test_verify_sha256_names_the_artifact() -> None:
    verify_sha256(b"abc", sha256_bytes(b"abc"), "cube x")
    with pytest.raises(HashMismatch, match="cube x"):
        verify_sha256(b"abd", sha256_bytes(b"abc"), "cube x")
