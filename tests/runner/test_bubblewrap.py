"""The local runner's own parts: finding bwrap, the runtime it binds, picking a runner."""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path, PurePosixPath

import pytest

from medval.core.errors import InvalidInput, SandboxError
from medval.runner import BubblewrapRunner, Limits, PythonRuntime, runner_for
from medval.runner.image_rootfs import ImageConfig, UnpackedImage
from medval.runner.invocation import Mount, TaskInvocation

from .cubes import write_cube


def _invocation(tmp_path: Path) -> TaskInvocation:
    return TaskInvocation(
        cube="model-a",
        task="infer",
        cube_folder=tmp_path,
        entrypoint=("python", "infer.py"),
        mounts=(
            Mount("data_path", tmp_path / "d", PurePosixPath("/mlcube_io/data_path"), False),
            Mount("output_path", tmp_path / "o", PurePosixPath("/mlcube_io/output_path"), True),
        ),
        parameters_file=None,
    )


def test_missing_bubblewrap_says_what_to_install(tmp_path: Path) -> None:
    runner = BubblewrapRunner(bwrap=str(tmp_path / "no-such-bwrap"))
    with pytest.raises(SandboxError) as error:
        runner.execute(_invocation(tmp_path), Limits(), None)
    assert "install the Debian package bubblewrap" in str(error.value)
    assert "\n" not in str(error.value)


def test_runtime_roots_skip_usr_and_nested_folders() -> None:
    runtime = PythonRuntime(
        Path("/opt/app/venv/bin/python"),
        (Path("/usr"), Path("/usr/lib/python3"), Path("/opt/app"), Path("/opt/app/venv")),
    )
    assert runtime.bind_roots() == [Path("/opt/app")]
    assert runtime.bin_dir == Path("/opt/app/venv/bin")


def test_the_current_runtime_is_this_python() -> None:
    runtime = PythonRuntime.current()
    assert runtime.executable == Path(sys.executable)
    assert Path(sys.prefix) in runtime.roots and Path(sys.base_prefix) in runtime.roots


def test_sandbox_arguments_isolate_and_mount_read_only(tmp_path: Path) -> None:
    runner = BubblewrapRunner(runtime=PythonRuntime(Path("/opt/py/bin/python"), (Path("/opt/py"),)))
    args = runner.sandbox_arguments(_invocation(tmp_path), Limits(memory_bytes=1 << 30), "bwrap")
    for flag in ("--unshare-all", "--unshare-user", "--die-with-parent", "--new-session"):
        assert flag in args
    joined = " ".join(args)
    assert "--uid 65534 --gid 65534" in joined and "--cap-drop ALL" in joined
    assert "--clearenv" in args and "--setenv HOME /tmp" in joined
    assert "--ro-bind /opt/py /opt/py" in joined
    assert f"--ro-bind {tmp_path} /cube" in joined
    assert f"--ro-bind {tmp_path / 'd'} /mlcube_io/data_path" in joined
    assert f"--bind {tmp_path / 'o'} /mlcube_io/output_path" in joined
    assert f"--size {1 << 30} --tmpfs /tmp" in joined
    assert args[-4:] == ["--remount-ro", "/", "--chdir", "/cube"]
    assert "--share-net" not in args


def test_runner_for_local_and_unknown_kinds() -> None:
    assert isinstance(runner_for("local"), BubblewrapRunner)
    with pytest.raises(
        InvalidInput, match=r"unknown runner .kubernetes.: choose one of docker, local, podman$"
    ):
        runner_for("kubernetes")


@pytest.mark.sandbox
def test_a_sandbox_that_cannot_be_built_says_why(tmp_path: Path) -> None:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap is not installed: `make test` installs it (apt-get install bubblewrap)"
        )
    cube = write_cube(tmp_path / "cube", "report('ran')", None, None)
    gone = tmp_path / "moved-python"
    runtime = PythonRuntime(Path(sys.executable), (Path(sys.prefix), Path(sys.base_prefix), gone))
    with pytest.raises(SandboxError) as error:
        BubblewrapRunner(runtime=runtime).run(cube.folder, cube.spec, "infer", cube.mounts)
    assert str(error.value) == f"the sandbox could not start: {gone} does not exist"


def _unpacked(tmp_path: Path, env: tuple[tuple[str, str], ...]) -> UnpackedImage:
    rootfs = tmp_path / "rootfs"
    for folder in ("usr/bin", "etc", "workspace", "cube", "proc"):
        (rootfs / folder).mkdir(parents=True)
    (rootfs / "bin").symlink_to("usr/bin")
    return UnpackedImage("sha256:" + "0" * 64, rootfs, ImageConfig(env=env))


def test_an_image_is_the_root_instead_of_the_hosts_usr_and_python(tmp_path: Path) -> None:
    runner = BubblewrapRunner(runtime=PythonRuntime(Path("/opt/py/bin/python"), (Path("/opt/py"),)))
    image = _unpacked(tmp_path, (("PATH", "/opt/conda/bin:/usr/bin"), ("HOME", "/root")))
    args = runner.sandbox_arguments(_invocation(tmp_path), Limits(), "bwrap", image)
    joined = " ".join(args)
    rootfs = image.rootfs
    assert f"--ro-bind {rootfs}/etc /etc" in joined and f"--ro-bind {rootfs}/usr /usr" in joined
    assert "--symlink usr/bin /bin" in joined
    assert "--ro-bind /usr /usr" not in joined and "/opt/py" not in joined
    assert f"{rootfs}/cube" not in joined and f"{rootfs}/proc" not in joined  # the sandbox's own
    assert "--setenv PATH /opt/conda/bin:/usr/bin" in joined
    assert "--setenv HOME /tmp" in joined  # the fixed variables win but for PATH


def test_a_mount_point_missing_from_an_images_folder_is_made_in_a_fresh_copy_of_it(
    tmp_path: Path,
) -> None:
    image = _unpacked(tmp_path, ())
    (image.rootfs / "workspace" / "model").mkdir()
    (image.rootfs / "workspace" / "run.sh").write_text("")
    (image.rootfs / "workspace").chmod(0o750)
    invocation = dataclasses.replace(
        _invocation(tmp_path),
        mounts=(Mount("data_path", tmp_path / "d", PurePosixPath("/workspace/input/x"), False),),
    )
    joined = " ".join(BubblewrapRunner().sandbox_arguments(invocation, Limits(), "bwrap", image))
    rootfs = image.rootfs
    # /workspace is made afresh (with its mode) and each of its entries bound into it: the
    # mount point /workspace/input is then made in the sandbox's root, not in the image.
    assert "--perms 0750 --dir /workspace" in joined
    assert f"--ro-bind {rootfs}/workspace/model /workspace/model" in joined
    assert f"--ro-bind {rootfs}/workspace/run.sh /workspace/run.sh" in joined
    assert f"--ro-bind {rootfs}/workspace /workspace" not in joined
    assert f"--ro-bind {tmp_path / 'd'} /workspace/input/x" in joined
    assert f"--ro-bind {rootfs}/etc /etc" in joined  # untouched folders are bound whole
    assert not (rootfs / "workspace" / "input").exists()


def test_a_mount_point_through_a_link_of_the_image_is_one_line(tmp_path: Path) -> None:
    invocation = dataclasses.replace(
        _invocation(tmp_path),
        mounts=(Mount("data_path", tmp_path / "d", PurePosixPath("/bin/input"), False),),
    )
    with pytest.raises(SandboxError) as refused:
        BubblewrapRunner().sandbox_arguments(invocation, Limits(), "bwrap", _unpacked(tmp_path, ()))
    assert str(refused.value) == (
        "task 'infer' of cube 'model-a': its mount /bin/input goes through /bin, which is a "
        "link in its image: the local runner cannot make a mount point there"
    )
