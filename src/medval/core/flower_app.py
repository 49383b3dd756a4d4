"""A training cube as medval reads it: a Flower app folder, known by its ``pyproject.toml``.

A Flower app declares itself in its ``pyproject.toml``::

    [tool.flwr.app.components]
    serverapp = "myapp.server_app:app"     # module:attribute, inside the folder
    clientapp = "myapp.client_app:app"

    [tool.flwr.app.config]                 # the run-config keys it reads, with defaults
    num-server-rounds = 3
    local-epochs = 1

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
from pathlib import Path
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
    name: str | None = None  # [project].name, when it has one

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
    project = document.get("project")
    name = project.get("name") if isinstance(project, dict) else None
    return FlowerApp(
        names["serverapp"],
        names["clientapp"],
        _flattened(config, "", where),
        name if isinstance(name, str) else None,
    )


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
