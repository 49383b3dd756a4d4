"""GPUs: ``--gpus`` parsed into its typed request, checked against a folder of fake
NVIDIA device files (this machine has no GPU), and each cube format's declaration
(the review before a run: ``tests/client/test_gpu_review.py``)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from medval.core.cube_spec import SPEC_FILE, load_cube_spec
from medval.core.errors import InvalidInput
from medval.core.gpus import GpuChoice, GpuDevices, GpuNeed, GpuRequest, find_gpus
from medval.core.states import CubeKind


def fake_devices(root: Path, *names: str) -> Path:
    root.mkdir()
    for name in names:
        (root / name).write_bytes(b"")
    return root


@pytest.mark.parametrize(
    ("text", "request_"),
    [
        ("none", GpuRequest(GpuChoice.NONE)),
        ("ALL", GpuRequest(GpuChoice.ALL)),
        ("0", GpuRequest(GpuChoice.DEVICES, (0,))),
        (" 2, 0,2 ", GpuRequest(GpuChoice.DEVICES, (0, 2))),
    ],
)
def test_the_gpus_option_is_parsed_into_its_typed_request(text: str, request_: GpuRequest) -> None:
    assert GpuRequest.parse(text) == request_


@pytest.mark.parametrize("text", ["", "some", "-1", "0,", "1.5", "gpu0"])
def test_a_bad_gpus_option_is_one_line(text: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        GpuRequest.parse(text)
    assert raised.value.message == (
        f"--gpus takes all, none or GPU numbers separated by commas (0,1), not {text!r}"
    )


def test_no_gpu_asked_finds_nothing_and_reads_no_folder(tmp_path: Path) -> None:
    assert find_gpus(GpuRequest(), tmp_path / "absent") == GpuDevices()


def test_a_machine_without_a_gpu_refuses_any_in_one_line(tmp_path: Path) -> None:
    root = fake_devices(tmp_path / "dev", "null", "nvidiactl")  # a driver, no GPU
    for text in ("all", "7"):
        with pytest.raises(InvalidInput) as raised:
            find_gpus(GpuRequest.parse(text), root)
        assert raised.value.message == (
            f"--gpus {text}: this machine has no NVIDIA GPU "
            f"(no {root}/nvidia0, nvidia1, ...); run with --gpus none"
        )


def test_a_gpu_this_machine_lacks_is_named(tmp_path: Path) -> None:
    root = fake_devices(tmp_path / "dev", "nvidia0", "nvidia1")
    with pytest.raises(InvalidInput) as raised:
        find_gpus(GpuRequest.parse("1,7,9"), root)
    assert raised.value.message == "--gpus 1,7,9: this machine has no GPU 7,9 (it has 0,1)"


def test_all_gives_every_gpu_and_the_control_files(tmp_path: Path) -> None:
    root = fake_devices(
        tmp_path / "dev", "nvidia0", "nvidia10", "nvidiactl", "nvidia-uvm", "nvidia-modeset"
    )
    found = find_gpus(GpuRequest.parse("all"), root)
    assert found == GpuDevices(
        (0, 10),
        True,
        (root / "nvidia0", root / "nvidia10", root / "nvidiactl", root / "nvidia-uvm"),
    )
    assert found.describe() == "all GPUs (0,10)"


def test_listed_gpus_give_only_their_files_and_the_control_files_there(tmp_path: Path) -> None:
    root = fake_devices(tmp_path / "dev", "nvidia0", "nvidia1", "nvidiactl")
    found = find_gpus(GpuRequest.parse("1"), root)
    assert found == GpuDevices((1,), False, (root / "nvidia1", root / "nvidiactl"))
    assert [str(GpuDevices.sandbox_path(file)) for file in found.files] == [
        "/dev/nvidia1",
        "/dev/nvidiactl",
    ]


# --- what cubes declare ------------------------------------------------------------------


def native(folder: Path, gpu_line: str) -> Path:
    folder.mkdir()
    (folder / SPEC_FILE).write_text(
        f"name: m\nkind: model\n{gpu_line}\ntasks:\n  infer: {{entrypoint: [python, i.py]}}\n"
    )
    return folder


@pytest.mark.parametrize(
    ("line", "need"),
    [("", GpuNeed.NONE), ("gpu: none", GpuNeed.NONE), ("gpu: can_use", GpuNeed.CAN_USE),
     ("gpu: needs", GpuNeed.NEEDS)],
)  # fmt: skip
def test_a_native_cube_declares_its_gpu_need(tmp_path: Path, line: str, need: GpuNeed) -> None:
    assert load_cube_spec(native(tmp_path / "cube", line)).gpu is need


def test_a_native_cubes_unknown_gpu_need_is_one_line(tmp_path: Path) -> None:
    folder = native(tmp_path / "cube", "gpu: 2")
    with pytest.raises(InvalidInput) as raised:
        load_cube_spec(folder)
    assert raised.value.message == (
        f"{folder / SPEC_FILE}: 'gpu' must be one of none, can_use, needs"
    )


def medperf(folder: Path, gpus: str | None) -> Path:
    folder.mkdir()
    run_args = f"\n    run_args: {{gpus: {gpus}}}" if gpus is not None else ""
    (folder / "container_config.yaml").write_text(
        textwrap.dedent(
            """\
            image: vendor/model:1
            tasks:
              infer:{run_args}
                input_volumes: {{data_path: {{mount_path: /d, type: directory}}}}
                output_volumes: {{output_path: {{mount_path: /o, type: directory}}}}
            """
        ).format(run_args=run_args)
    )
    return folder


@pytest.mark.parametrize(
    ("gpus", "need"),
    [(None, GpuNeed.NONE), ("0", GpuNeed.NONE), ("'none'", GpuNeed.NONE), ("1", GpuNeed.CAN_USE),
     ("all", GpuNeed.CAN_USE), ("'\"device=0\"'", GpuNeed.CAN_USE)],
)  # fmt: skip
def test_medperfs_gpus_run_argument_makes_a_cube_that_can_use_a_gpu(
    tmp_path: Path, gpus: str | None, need: GpuNeed
) -> None:
    spec = load_cube_spec(medperf(tmp_path / "cube", gpus), CubeKind.MODEL)
    assert spec.gpu is need
    assert not any("gpus" in line for line in spec.unhonoured)  # read, no longer a note


@pytest.mark.parametrize(
    ("platform", "need", "notes"),
    [
        ("", GpuNeed.NONE, ()),
        ("platform: {accelerator_count: 0}", GpuNeed.NONE, ()),
        ("platform: {accelerator_count: 2}", GpuNeed.CAN_USE, ()),
        (
            "platform: {accelerator_count: 1, CPU: 4}",
            GpuNeed.CAN_USE,
            ("platform.CPU (resources are the runner's limits)",),
        ),
    ],
)
def test_mlcubes_accelerator_count_makes_a_cube_that_can_use_a_gpu(
    tmp_path: Path, platform: str, need: GpuNeed, notes: tuple[str, ...]
) -> None:
    folder = tmp_path / "cube"
    folder.mkdir()
    (folder / "mlcube.yaml").write_text(
        f"name: m\ndocker: {{image: vendor/m:1}}\n{platform}\n"
        "tasks:\n  infer:\n    parameters:\n"
        "      inputs: {data_path: data}\n      outputs: {output_path: out}\n"
    )
    spec = load_cube_spec(folder, CubeKind.MODEL)
    assert (spec.gpu, spec.unhonoured) == (need, notes)
