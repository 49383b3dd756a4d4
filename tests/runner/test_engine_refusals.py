"""An engine that cannot start a container says so with its whole reason, on one line.

Real Docker and Podman: a cube whose entrypoint is not in its image makes the engine's
OCI runtime refuse to start the container (exit status 126 or 127, an error from the
engine, not from anything the cube ran). That is an ``EngineError``, not the cube's
failure, and its message keeps the engine's whole reason, not its last stderr line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.cube_spec import load_cube_spec
from medval.core.errors import EngineError
from medval.runner.container import ContainerRunner

from .test_pinned_images import LIMITS, ImageMaker, engine, fresh_tag, make_image

pytestmark = [pytest.mark.sandbox, pytest.mark.container]
__all__ = ["engine", "make_image"]  # fixtures, used by name


def test_an_entrypoint_missing_from_the_image_is_the_engines_refusal_in_full(
    engine: ContainerRunner, make_image: ImageMaker, tmp_path: Path
) -> None:
    image_id, _ = make_image(fresh_tag())
    folder = tmp_path / "cube"
    folder.mkdir(mode=0o755)
    (folder / "medval-cube.yaml").write_text(
        f"name: gone-entrypoint\nkind: model\nimage: {image_id}\n"
        "tasks:\n  infer: {entrypoint: [/no/such/program]}\n"
    )
    (folder / "medval-cube.yaml").chmod(0o644)
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    mounts = {"data_path": data, "output_path": tmp_path / "output"}
    with pytest.raises(EngineError) as error:
        engine.run(folder, load_cube_spec(folder), "infer", mounts, LIMITS, image=image_id)
    said = f"{engine.program} could not start the container for task 'infer' of cube "
    message = error.value.message
    assert message.startswith(f"{said}'gone-entrypoint': "), message
    assert "/no/such/program" in message, message
    assert "\n" not in message and "--help" not in message, message
    assert error.value.verdict == f"{said}'gone-entrypoint'"
    assert error.value.exit_code == 9  # the site's engine, told apart from a cube's failure (8)
