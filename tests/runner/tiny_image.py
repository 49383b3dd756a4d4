"""A tiny container image built here without any registry, and a cube that runs in it.

The image is a root filesystem of this machine's ``/bin/sh`` (dash) and the shared
libraries it loads, plus ``/opt/tool/infer.sh`` and a ``/opt/tool/marker`` file whose
content tells images apart, imported with ``<engine> import``. Its task copies the
marker into its output, so a test can see which image ran.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import tarfile
import textwrap
from pathlib import Path

from medval.core.cube_spec import SPEC_FILE

_LDD_PATH = re.compile(r"(/\S+)\s+\(0x")

# Reads its mounts from --NAME=PATH arguments with shell built-ins only (no coreutils).
INFER_SCRIPT = textwrap.dedent(
    """\
    for arg in "$@"; do
      case "$arg" in
        --output_path=*) out="${arg#--output_path=}" ;;
      esac
    done
    read -r marker < /opt/tool/marker
    echo "$marker" > "$out/marker.txt"
    """
)


def _add_file(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), mode
    tar.addfile(info, io.BytesIO(data))


def _add_dir(tar: tarfile.TarFile, name: str, mode: int = 0o755) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, mode
    tar.addfile(info)


def tiny_root_filesystem(marker: str, programs: tuple[str, ...] = ("sh",)) -> bytes:
    """An uncompressed tar: /bin/sh (and other ``programs`` of this machine's /bin), their
    libraries, the tool and its marker.

    Each library is stored as a plain file at the path ``ldd`` names, so no link of
    this machine's merged ``/usr`` layout is needed inside.
    """
    libraries: set[Path] = set()
    for program in programs:
        answer = subprocess.run(
            ["ldd", f"/bin/{program}"], capture_output=True, text=True, check=True
        )
        libraries |= {Path(m) for m in _LDD_PATH.findall(answer.stdout)}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        folders = {"bin", "opt", "opt/tool", "cube", "mlcube_io", "proc", "dev", "sys"}
        for library in libraries:
            parts = library.parts[1:-1]
            folders |= {"/".join(parts[: depth + 1]) for depth in range(len(parts))}
        for folder in sorted(folders):
            _add_dir(tar, folder)
        _add_dir(tar, "tmp", 0o1777)
        for program in programs:
            binary = Path("/bin", program).resolve().read_bytes()
            _add_file(tar, f"bin/{program}", binary, 0o755)
        for library in sorted(libraries):
            _add_file(tar, str(library).lstrip("/"), library.resolve().read_bytes(), 0o755)
        _add_file(tar, "opt/tool/infer.sh", INFER_SCRIPT.encode())
        _add_file(tar, "opt/tool/marker", f"{marker}\n".encode())
    return buffer.getvalue()


def build_tiny_image(
    program: str,
    tag: str,
    marker: str,
    with_entrypoint: bool = False,
    env: tuple[str, ...] = (),
    workdir: str = "/cube",
) -> str:
    """``<program> import`` the tiny image as ``tag``; returns its ID.

    ``with_entrypoint``: the image's own entrypoint is its tool, as in MLCube images;
    ``env``: its own variables (``NAME=value``); ``workdir``: its ``WORKDIR``.
    """
    changes = ["--change", f"WORKDIR {workdir}"]
    for variable in env:
        changes += ["--change", f"ENV {variable}"]
    if with_entrypoint:
        changes += ["--change", 'ENTRYPOINT ["sh", "/opt/tool/infer.sh"]']
    subprocess.run(
        [program, "import", *changes, "-", tag],
        input=tiny_root_filesystem(marker),
        capture_output=True,
        check=True,
        timeout=120,
    )
    answer = subprocess.run(
        [program, "image", "inspect", "--format", "{{.Id}}", tag],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    image_id = answer.stdout.strip()
    return image_id if image_id.startswith("sha256:") else f"sha256:{image_id}"


def write_image_cube(folder: Path, image: str) -> Path:
    """A model cube whose ``infer`` runs the image's own tool; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / SPEC_FILE).write_text(
        textwrap.dedent(
            f"""\
            name: tiny-image-model
            kind: model
            image: {image}
            tasks:
              infer: {{entrypoint: [sh, /opt/tool/infer.sh]}}
            """
        )
    )
    folder.chmod(0o755)
    (folder / SPEC_FILE).chmod(0o644)
    return folder


def write_mlcube(folder: Path, image: str) -> Path:
    """The same model as an MLCube ``mlcube.yaml``: the image's entrypoint gets the task."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mlcube.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: tiny-mlcube
            docker: {{image: {image}}}
            tasks:
              infer:
                parameters:
                  inputs: {{data_path: {{type: directory, default: data}}}}
                  outputs: {{output_path: {{type: directory, default: predictions}}}}
            """
        )
    )
    folder.chmod(0o755)
    (folder / "mlcube.yaml").chmod(0o644)
    return folder


def write_medperf(folder: Path, image: str, file_at_root: bool = False) -> Path:
    """The same model in MedPerf's format: volumes at its own paths, no path arguments.

    ``file_at_root``: its output is the one file ``/marker.txt``, as MedPerf's preparation
    cubes declare ``/medperf_statistics.yaml``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if file_at_root:
        where, output = "/", "{mount_path: /marker.txt, type: file}"
    else:
        where, output = (
            "/volumes/predictions",
            "{mount_path: /volumes/predictions, type: directory}",
        )
    (folder / "container_config.yaml").write_text(
        textwrap.dedent(
            f"""\
            container_type: DockerImage
            image: {image}
            tasks:
              infer:
                run_args:
                  entrypoint: sh
                  command: [/opt/tool/infer.sh, --output_path={where}]
                input_volumes:
                  data_path: {{mount_path: /volumes/data, type: directory}}
                output_volumes:
                  output_path: {output}
            """
        )
    )
    folder.chmod(0o755)
    (folder / "container_config.yaml").chmod(0o644)
    return folder


def image_archive(
    layers: list[bytes], config: dict[str, object] | None = None, tags: tuple[str, ...] = ()
) -> bytes:
    """A ``docker save`` archive built by hand: manifest, configuration, layer tars.

    The image's ID is the sha256 of the configuration (see :func:`archive_id`); ``tags``
    are its manifest's ``RepoTags`` (none: null, as ``docker save ID`` writes).
    """
    diff_ids = [f"sha256:{hashlib.sha256(layer).hexdigest()}" for layer in layers]
    document = {
        "architecture": "amd64",
        "os": "linux",
        "config": config or {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = json.dumps(document).encode()
    config_name = f"{hashlib.sha256(config_bytes).hexdigest()}.json"
    layer_names = [f"{diff_id[7:]}/layer.tar" for diff_id in diff_ids]
    manifest = [{"Config": config_name, "RepoTags": list(tags) or None, "Layers": layer_names}]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, layer in zip(layer_names, layers, strict=True):
            _add_dir(tar, name.split("/")[0])
            _add_file(tar, name, layer)
        _add_file(tar, config_name, config_bytes)
        _add_file(tar, "manifest.json", json.dumps(manifest).encode())
    return buffer.getvalue()


def archive_id(archive: bytes) -> str:
    """The image ID of an archive from :func:`image_archive`."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        manifest = tar.extractfile("manifest.json")
        assert manifest is not None
        config = tar.extractfile(json.loads(manifest.read())[0]["Config"])
        assert config is not None
        return f"sha256:{hashlib.sha256(config.read()).hexdigest()}"


def tiny_image_archive(
    marker: str,
    with_entrypoint: bool = False,
    programs: tuple[str, ...] = ("sh",),
    tags: tuple[str, ...] = (),
    env: tuple[str, ...] = (),
    workdir: str = "/cube",
) -> bytes:
    """The tiny image as a saved archive, without any engine (PATH set, as engines do),
    with the manifest's ``tags`` and more ``env`` (``NAME=value``)."""
    config: dict[str, object] = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", *env],
        "WorkingDir": workdir,
    }
    if with_entrypoint:
        config["Entrypoint"] = ["sh", "/opt/tool/infer.sh"]
    return image_archive([tiny_root_filesystem(marker, programs)], config, tags)


def save_tagged(program: str, tag: str, destination: Path) -> None:
    """``<program> save`` of the image by its tag, so the archive's manifest names it."""
    subprocess.run(
        [program, "save", "--output", str(destination), tag],
        capture_output=True,
        check=True,
        timeout=300,
    )
