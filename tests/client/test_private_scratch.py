"""Where a private model is unpacked in clear for a task: a memory-backed file system
when there is one, inside a folder only this account may enter, its additional files
unpacked there too (never by the runner into the system's temporary folder)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from pathlib import Path

import pytest

from medval.client.cube_supply import unpack_additional_files_here
from medval.client.workspace import Workspace
from medval.core.cube_spec import load_cube_spec
from medval.core.scratch import MEMORY_BACKED, memory_backed_root, private_root

WEIGHTS = b"weights: secret-0123\n"


def _is_tmpfs(path: Path) -> bool:
    with open("/proc/self/mounts") as mounts:
        return any(line.split()[1:3] == [str(path), "tmpfs"] for line in mounts)


def test_a_folder_that_is_no_tmpfs_is_not_memory_backed(tmp_path: Path) -> None:
    assert memory_backed_root(tmp_path) is None
    assert memory_backed_root(tmp_path / "missing") is None


@pytest.mark.skipif(not _is_tmpfs(MEMORY_BACKED), reason="/dev/shm is not a tmpfs here")
def test_a_private_model_is_unpacked_in_memory_inside_an_owner_only_folder(
    tmp_path: Path,
) -> None:
    assert memory_backed_root() == MEMORY_BACKED
    folder = Workspace(tmp_path / "home").private_scratch("model-7-")
    try:
        assert folder.parent == MEMORY_BACKED / f"medval-private-{os.getuid()}"
        parent = folder.parent.lstat()
        assert stat.S_IMODE(parent.st_mode) == 0o700 and parent.st_uid == os.getuid()
        # The sandbox user (nobody, when run as root) reads the cube; others cannot reach it.
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        assert not (tmp_path / "home" / "scratch").exists()
    finally:
        folder.rmdir()


def test_without_a_memory_backed_file_system_it_is_the_workspace_scratch(tmp_path: Path) -> None:
    home = tmp_path / "home"
    folder = Workspace(home).private_scratch("model-7-", memory_backed=tmp_path / "disk")
    assert folder.parent == home / "scratch" / "private"
    assert stat.S_IMODE(folder.parent.stat().st_mode) == 0o700


def test_a_link_or_another_accounts_folder_is_never_used(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "medval-private").symlink_to(tmp_path / "elsewhere")
    assert private_root(tmp_path, "medval-private") is None
    assert private_root(tmp_path, "mine") == tmp_path / "mine"


def test_the_additional_files_archive_is_unpacked_in_place(tmp_path: Path) -> None:
    cube = tmp_path / "cube"
    cube.mkdir()
    (cube / "medval-cube.yaml").write_text(
        "name: m\nkind: model\nadditional_files: weights.tar.gz\n"
        "tasks:\n  infer: {entrypoint: [python, infer.py]}\n"
    )
    (cube / "infer.py").write_text("")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("w.yaml")
        info.size = len(WEIGHTS)
        tar.addfile(info, io.BytesIO(WEIGHTS))
    (cube / "weights.tar.gz").write_bytes(buffer.getvalue())
    spec = load_cube_spec(cube)
    unpack_additional_files_here(cube, spec)
    assert (cube / "weights.tar.gz").is_dir()  # the runner uses a folder as it is
    assert (cube / "weights.tar.gz" / "w.yaml").read_bytes() == WEIGHTS
