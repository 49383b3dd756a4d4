"""What a cube leaves behind is hashed and packed without trusting it (issue 8).

A FIFO, a socket or a link in prepared data is refused in one line and never opened;
archives unpack on every Python 3.11 (3.11.2 has no extraction filters) with the same
safety: no set-user-ID bits, no owners from the archive, nothing writable by others.
"""

from __future__ import annotations

import hashlib
import io
import os
import socket
import stat
import tarfile
from pathlib import Path

import pytest

from medval.core.errors import InvalidInput
from medval.core.hashing import pack_directory, tree_hash, unpack_archive


def test_tree_hash_is_the_documented_recipe(tmp_path: Path) -> None:
    """Registered datasets keep their hashes: every path in order, every file's content."""
    data, labels = tmp_path / "data", tmp_path / "labels"
    (data / "a").mkdir(parents=True)
    (data / "a" / "b.csv").write_text("1")
    (data / "a-c.csv").write_text("2")
    labels.mkdir()
    (labels / "y.csv").write_text("3")
    recipe = hashlib.sha256()
    for line in (
        "root 0",
        "dir a",
        f"file a/b.csv {hashlib.sha256(b'1').hexdigest()}",  # a/b before a-c: by parts
        f"file a-c.csv {hashlib.sha256(b'2').hexdigest()}",
        "root 1",
        f"file y.csv {hashlib.sha256(b'3').hexdigest()}",
    ):
        recipe.update(f"{line}\n".encode())
    assert tree_hash(data, labels) == recipe.hexdigest()


@pytest.mark.timeout(20)  # Opening a FIFO for reading blocks until a writer comes: never.
def test_tree_hash_refuses_a_fifo_without_opening_it(tmp_path: Path) -> None:
    (tmp_path / "cases.csv").write_text("x")
    os.mkfifo(tmp_path / "trap")
    with pytest.raises(InvalidInput) as refused:
        tree_hash(tmp_path)
    assert refused.value.message == (
        f"only files and folders are allowed in hashed data, not a FIFO: {tmp_path / 'trap'}"
    )


def test_tree_hash_refuses_a_socket(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(tmp_path / "sock"))
        with pytest.raises(InvalidInput, match=r"allowed in hashed data, not a socket: .*sock$"):
            tree_hash(tmp_path)


def test_tree_hash_still_refuses_links(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to("/etc/hostname")
    with pytest.raises(InvalidInput, match=r"^symbolic links are not allowed in hashed data"):
        tree_hash(tmp_path)


@pytest.mark.timeout(20)
def test_pack_directory_refuses_a_fifo(tmp_path: Path) -> None:
    (tmp_path / "run.py").write_text("print(1)")
    os.mkfifo(tmp_path / "trap")
    with pytest.raises(InvalidInput, match=r"not a FIFO: .*trap$"):
        pack_directory(tmp_path)


def _archive(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if data is not None else 0
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def _member(name: str, mode: int, kind: bytes = tarfile.REGTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.uid, info.gid = kind, mode, 4321, 4321
    return info


def test_unpack_drops_set_id_bits_owners_and_write_for_others(tmp_path: Path) -> None:
    archive = _archive(
        (_member("tools", 0o7777, tarfile.DIRTYPE), None),
        (_member("tools/run", 0o6777), b"#!/bin/sh\n"),
        (_member("tools/notes.txt", 0o666), b"notes"),
        (_member("deep/er/file.csv", 0o600), b"a,b\n"),  # parents not in the archive
    )
    out = tmp_path / "out"
    unpack_archive(archive, out)
    modes = {
        path.relative_to(out).as_posix(): stat.S_IMODE(path.lstat().st_mode)
        for path in out.rglob("*")
    }
    assert modes == {
        "tools": 0o755,
        "tools/run": 0o755,
        "tools/notes.txt": 0o644,
        "deep": 0o755,
        "deep/er": 0o755,
        "deep/er/file.csv": 0o644,
    }
    owners = {(path.lstat().st_uid, path.lstat().st_gid) for path in out.rglob("*")}
    assert owners == {(os.getuid(), os.getgid())}
    assert (out / "deep" / "er" / "file.csv").read_text() == "a,b\n"


@pytest.mark.parametrize(
    ("member", "message"),
    [
        (_member("link", 0o777, tarfile.SYMTYPE), "archive member is not a plain file: link"),
        (_member("fifo", 0o644, tarfile.FIFOTYPE), "archive member is not a plain file: fifo"),
        (_member("/etc/cron.d/x", 0o644), "archive member escapes its folder: /etc/cron.d/x"),
    ],
)
def test_unpack_refuses_links_devices_and_escapes(
    tmp_path: Path, member: tarfile.TarInfo, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        unpack_archive(_archive((member, None)), tmp_path / "out")
    assert refused.value.message == message


def test_unpack_refuses_a_member_twice(tmp_path: Path) -> None:
    archive = _archive((_member("a.txt", 0o644), b"first"), (_member("a.txt", 0o644), b"second"))
    with pytest.raises(InvalidInput, match=r"^not a valid archive: .*a\.txt"):
        unpack_archive(archive, tmp_path / "out")
