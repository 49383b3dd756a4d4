"""The MedPerf test cubes' images, built here with ``docker build`` and no registry.

Each image starts from a small image of the client's own Python with PyYAML only (built
as the Docker runner builds its Python image, see medval.runner.python_image), as MedPerf
cubes bring their own Python and libraries, and adds the cube's ``project/`` folder.
Built in Docker; a data owner on Podman or bubblewrap gets them as the image archives
registered with the cubes.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

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
    plan = PythonImagePlan.for_runtime(runner.runtime, top="PyYAML")
    base = plan.tag()
    if runner.image_id(base) is None:
        build_python_image("docker", plan)
    built = {}
    for folder, tag in IMAGES.items():
        argv = [
            "docker", "build", "--quiet", "--tag", tag,
            "--build-arg", f"BASE={base}",
            "--build-arg", f"PYTHON_BIN={runner.runtime.bin_dir}",
            str(CUBES / folder),
        ]  # fmt: skip
        answer = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
            # The classic builder: BuildKit needs the buildx plugin, not always installed.
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
        if answer.returncode != 0:
            raise RuntimeError(f"docker build {tag} failed: {answer.stderr.strip()[-500:]}")
        image_id = runner.image_id(tag)
        assert image_id is not None, tag
        built[tag] = image_id
    return built
