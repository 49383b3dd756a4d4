"""The final model of a training run as a model cube that can join a benchmark at once.

What a final model holds is the training cube's own format, so the training cube brings
the model cube that reads it: ``[tool.medval.training] model-cube`` names a folder inside
the app, a medval model cube whose ``infer`` task reads the final model from beside its
code, under the file name the ServerApp wrote (``final-model``). medval copies that folder
and puts the final model in it, byte for byte: the same final model always gives the same
cube, and so the same hash. Imports ``core`` and this room only.
"""

from __future__ import annotations

import shutil
from pathlib import Path, PurePosixPath

from medval.core.errors import InvalidInput
from medval.training.app import read_app


def model_cube_from_final_model(app_dir: Path, final_model: Path, out: Path) -> Path:
    """A ready-to-register model cube in ``out`` (replaced if it exists) that infers with
    ``final_model``, from the template the training cube in ``app_dir`` declares."""
    app = read_app(app_dir)
    if app.model_cube is None:
        raise InvalidInput(
            f"training cube {app.name} declares no model-cube in [tool.medval.training]: "
            f"its final model stays at {final_model}"
        )
    template = app_dir / app.model_cube
    if template.is_symlink() or not template.is_dir():
        raise InvalidInput(f"training cube {app.name}: model-cube {app.model_cube} is no folder")
    if final_model.is_symlink() or not final_model.is_file():
        raise InvalidInput(f"{final_model}: the final model is not a file")
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(template, out, symlinks=True)
    shutil.copyfile(final_model, out / PurePosixPath(app.final_model).name)
    return out
