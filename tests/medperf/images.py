"""The MedPerf test cubes' images, built here with ``docker build`` and no registry.

Each image starts from a small image of the client's own Python interpreter with PyYAML
in its site-packages (built as the Docker runner builds its Python image, see
medval.runner.python_image), as MedPerf cubes bring their own Python and libraries, and
adds the cube's ``project/`` folder.
Built in Docker; a data owner on Podman or bubblewrap gets them as the image archives
registered with the cubes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import yaml

from medval.runner.docker import DockerRunner
from medval.runner.python_image import PythonImagePlan, build_python_image

CUBES = Path(__file__).resolve().parent / "cubes"
# Cube folder -> the image its container_config.yaml names.
IMAGES = {
    "prep": "medperf-test/breast-prep:1.0",
    "model": "medperf-test/breast-logistic:1.0",
    "broken_model": "medperf-test/broken:1.0",
    "metrics": "medperf-test/breast-metrics:1.0",
}


def build_images(runner: DockerRunner) -> dict[str, str]:
    """Build every test cube's image in Docker; the tag -> image ID of each."""
    base = _python_with_yaml(runner)
    built = {}
    for folder, tag in IMAGES.items():
        _docker_build(
            ["--tag", tag, "--build-arg", f"BASE={base}", "--build-arg", f"PYTHON_BIN={_BIN}"],
            str(CUBES / folder),
        )
        image_id = runner.image_id(tag)
        assert image_id is not None, tag
        built[tag] = image_id
    return built


# The interpreter itself, not the virtual environment: a checkout under /tmp (CI's clean
# clone) has its venv there, and every runner gives a task a fresh /tmp over the image's.
_BIN = Path(sys.base_prefix) / "bin"
_SITE = Path(sysconfig.get_paths(vars={"base": sys.base_prefix})["purelib"])


def _python_with_yaml(runner: DockerRunner) -> str:
    """medval's Python image with PyYAML only, its package copied into the interpreter's
    own site-packages: the base of every test cube's image."""
    plan = PythonImagePlan.for_runtime(runner.runtime, ("PyYAML",))
    if runner.image_id(plan.tag()) is None:
        build_python_image("docker", plan)
    tag = f"medperf-test/python-yaml:{plan.tag().rsplit(':', 1)[1]}"
    if runner.image_id(tag) is None:
        # Copied in from here: a venv under /tmp is not in medval's Python image at all.
        with tempfile.TemporaryDirectory(prefix="medperf-image-") as context:
            package = Path(yaml.__file__).parent
            shutil.copytree(package, Path(context) / "yaml", ignore=_BYTECODE)
            (Path(context) / "Dockerfile").write_text(
                f"FROM {plan.tag()}\nCOPY yaml {_SITE / 'yaml'}\n"
            )
            _docker_build(["--tag", tag], context)
    return tag


_BYTECODE = shutil.ignore_patterns("__pycache__")


def _docker_build(options: list[str], context: str) -> None:
    answer = subprocess.run(
        ["docker", "build", "--quiet", "--network", "none", *options, context],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        # The classic builder: BuildKit needs the buildx plugin, not always installed.
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
    )
    if answer.returncode != 0:
        raise RuntimeError(f"docker build {options} failed: {answer.stderr.strip()[-500:]}")
