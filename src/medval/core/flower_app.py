"""A training cube as medval reads it: a Flower app folder, known by its ``pyproject.toml``.

A Flower app declares itself in its ``pyproject.toml``::

    [tool.flwr.app.components]
    serverapp = "myapp.server_app:app"     # module:attribute, inside the folder
    clientapp = "myapp.client_app:app"

    [tool.flwr.app.config]                 # the run-config keys it reads, with defaults
    num-server-rounds = 3
    local-epochs = 1

and medval's own table, which says what the ServerApp leaves behind::

    [tool.medval.training]
    final-model = "final_model.npz"        # written in the ServerApp's working directory
    model-cube = "model_cube"              # optional: a model cube folder in the app whose
                                           # infer task reads that file from beside it
    metrics = "training_metrics.json"      # optional: per-round metrics it writes there,
                                           # {"rounds": {"1": {"seconds": 0.4, ...}, ...}}

It must not name ``[tool.flwr.federations]``: medval decides where it runs (and ``flwr``
rewrites that table in place, which would change the cube's hash). The training room
(``medval.training.app``) builds and pins the app's FAB from what this module read.

medval never imports or runs the app to read this: the file is parsed as TOML (with the
standard library's ``tomllib``), and each component must name a module that is a file in
the folder. The declared config keys are what a training plan may set
(``core.training_plan.undeclared_keys``); a nested table declares dotted keys, as Flower
flattens it. Every problem is one line naming the file. Imports only ``core``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from medval.core.errors import InvalidInput

APP_FILE = "pyproject.toml"
COMPONENTS = ("serverapp", "clientapp")
# Flower's object reference: a dotted module path, a colon, a dotted attribute path.
_REFERENCE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


@dataclass(frozen=True)
class FlowerApp:
    """What medval needs to know of a Flower app: its two components, and the run-config
    keys it declares (flattened, as Flower reads them) with their defaults."""

    serverapp: str
    clientapp: str
    config: dict[str, bool | int | float | str]
    name: str  # [project]
    version: str
    publisher: str  # [tool.flwr.app]
    final_model: str  # [tool.medval.training]
    model_cube: str | None = None
    metrics: str | None = None

    @property
    def declared_keys(self) -> set[str]:
        return set(self.config)


def is_flower_app(folder: Path) -> bool:
    """Whether ``folder`` has a ``pyproject.toml`` with a ``[tool.flwr.app]`` table (so is
    meant as a Flower app; whether it is a valid one is ``load_flower_app``'s business)."""
    path = folder / APP_FILE
    if not path.is_file():
        return False
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
        return False
    return isinstance(_table(document, "tool", "flwr", "app"), dict)


def load_flower_app(folder: Path) -> FlowerApp:
    """Read and check the Flower app in ``folder``; each component's module must be there."""
    path = folder / APP_FILE
    if not path.is_file():
        raise InvalidInput(f"{folder} is not a Flower app: it has no {APP_FILE}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path}: not UTF-8 text") from None
    app = read_flower_app(text, str(path))
    for component in COMPONENTS:
        module = getattr(app, component).split(":", 1)[0].replace(".", "/")
        if not ((folder / f"{module}.py").is_file() or (folder / module / "__init__.py").is_file()):
            raise InvalidInput(
                f"{path}: {component} {getattr(app, component)!r} names module "
                f"{module}.py, which is not in the app's folder"
            )
    return app


def read_flower_app(text: str, where: str) -> FlowerApp:
    """A Flower app's ``pyproject.toml`` text, read; ``where`` names it in errors."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{where}: not valid TOML ({exc})") from None
    app = _table(document, "tool", "flwr", "app")
    if not isinstance(app, dict):
        raise InvalidInput(f"{where}: not a Flower app: it has no [tool.flwr.app] table")
    components = app.get("components")
    if not isinstance(components, dict):
        raise InvalidInput(f"{where}: [tool.flwr.app.components] is missing")
    names: dict[str, str] = {}
    for component in COMPONENTS:
        reference = components.get(component)
        if reference is None:
            kind = "ServerApp" if component == "serverapp" else "ClientApp"
            raise InvalidInput(
                f"{where}: [tool.flwr.app.components] names no {component}; a training "
                f"cube needs a {kind}"
            )
        if not isinstance(reference, str) or _REFERENCE.fullmatch(reference) is None:
            raise InvalidInput(
                f"{where}: {component} must be 'module:attribute', not {str(reference)[:80]!r}"
            )
        names[component] = reference
    config = app.get("config", {})
    if not isinstance(config, dict):
        raise InvalidInput(f"{where}: [tool.flwr.app.config] must be a table")
    declared = _flattened(config, "", where)
    if _table(document, "tool", "flwr", "federations") is not None:
        raise InvalidInput(
            f"{where}: [tool.flwr.federations] is not allowed in a training cube (medval "
            "chooses where it runs; remove the table)"
        )
    project = _table(document, "project")
    texts = {
        "name": project.get("name") if isinstance(project, dict) else None,
        "version": project.get("version") if isinstance(project, dict) else None,
        "publisher": app.get("publisher"),
    }
    for key, value in texts.items():
        if not isinstance(value, str) or not value:
            table = "[tool.flwr.app]" if key == "publisher" else "[project]"
            raise InvalidInput(f"{where}: no {key} in {table} (Flower's build needs it)")
    medval = _table(document, "tool", "medval", "training")
    medval = medval if isinstance(medval, dict) else {}
    final_model = _inside(medval.get("final-model"), "final-model", where, required=True)
    assert final_model is not None
    return FlowerApp(
        names["serverapp"],
        names["clientapp"],
        declared,
        name=str(texts["name"]),
        version=str(texts["version"]),
        publisher=str(texts["publisher"]),
        final_model=final_model,
        model_cube=_inside(medval.get("model-cube"), "model-cube", where, required=False),
        metrics=_inside(medval.get("metrics"), "metrics", where, required=False),
    )


def _inside(value: object, key: str, where: str, required: bool) -> str | None:
    """A path of ``[tool.medval.training]`` that stays inside the app (or its working
    directory), normalised; None when absent and not ``required``."""
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise InvalidInput(
            f"{where}: no {key} in [tool.medval.training] (the file the ServerApp writes "
            "the final model to, in its working directory)"
            if key == "final-model"
            else f"{where}: {key} in [tool.medval.training] must name a "
            + ("folder inside the app" if key == "model-cube" else "file")
        )
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts or "\\" in value:
        inside = "the app" if key == "model-cube" else "the ServerApp's working directory"
        raise InvalidInput(f"{where}: {key} {value!r} must be a path inside {inside}")
    return str(relative)


def _table(document: dict[str, Any], *keys: str) -> Any:
    found: Any = document
    for key in keys:
        if not isinstance(found, dict):
            return None
        found = found.get(key)
    return found


def _flattened(
    table: dict[str, Any], prefix: str, where: str
) -> dict[str, bool | int | float | str]:
    flat: dict[str, bool | int | float | str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flattened(value, f"{name}.", where))
        elif isinstance(value, bool | int | float | str):
            flat[name] = value
        else:
            raise InvalidInput(
                f"{where}: [tool.flwr.app.config] {name} must be a number, a boolean or "
                "text (Flower's run-config values)"
            )
    return flat
