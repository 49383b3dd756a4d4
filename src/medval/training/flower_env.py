"""Flower's commands as installed beside medval, and the environment medval runs them in.

Flower is an optional extra (``pip install 'medval[training]'``): its commands
(``flower-superlink``, ``flwr`` ...) are looked up in the running Python's environment
(``sys.prefix/bin``), never on the user's ``PATH``, so the Flower that runs is the one
medval was installed with. Only Flower 1.42 is accepted: medval relies on that release's
transport (the Fleet API as protobuf over HTTP/1.1), options and log lines.

Every Flower process medval starts gets the same environment: its own ``FLWR_HOME``,
Flower's commands first on ``PATH`` (the SuperLink starts ``flower-superexec`` by name),
run-time dependency installation off, no telemetry, no update check, and none of Flower's
internal switches that would open extra gRPC ports. Imports ``medval.core`` only.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from medval.core.errors import InvalidInput

SUPPORTED_SERIES = "1.42"
INSTALL_HINT = "pip install 'medval[training]'"
COMMANDS = ("flower-superlink", "flower-supernode", "flower-superexec", "flwr")

# Set for every Flower process: what medval decides, not what Flower defaults to.
_FIXED_ENVIRONMENT = {
    "FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION": "1",
    "FLWR_TELEMETRY_ENABLED": "0",
    "FLWR_DISABLE_UPDATE_CHECK": "1",
    # Plain output from the flwr CLI (rich honours it); colour codes Flower still puts
    # in its log lines are stripped where medval reads them.
    "NO_COLOR": "1",
    "PYTHONUNBUFFERED": "1",
}
# Removed from every Flower process's environment: Flower's internal switches that
# start the legacy gRPC Control and Fleet servers on ports of their own.
_REMOVED_ENVIRONMENT = ("FLWR_INTERNAL_GRPC_CONTROL_API", "FLWR_INTERNAL_GRPC_FLEET_API")


@dataclass(frozen=True)
class FlowerInstall:
    """Where Flower's commands are, and which Flower it is."""

    bin_dir: Path
    version: str

    def command(self, name: str) -> str:
        """The full path of Flower's command ``name``."""
        return str(self.bin_dir / name)

    def environment(self, flwr_home: Path) -> dict[str, str]:
        """The environment of a Flower process whose Flower directory is ``flwr_home``."""
        env = {key: value for key, value in os.environ.items() if key.startswith("LC_")}
        for key in ("LANG", "HOME", "TMPDIR", "TZ"):
            if key in os.environ:
                env[key] = os.environ[key]
        env["PATH"] = os.pathsep.join([str(self.bin_dir), "/usr/bin", "/bin"])
        env["FLWR_HOME"] = str(flwr_home)
        env.update(_FIXED_ENVIRONMENT)
        for key in _REMOVED_ENVIRONMENT:
            env.pop(key, None)
        return env


def find_flower(prefix: Path | None = None) -> FlowerInstall:
    """Flower 1.42 installed in this Python's environment (or ``prefix``), or one line
    saying what is missing and how to install it."""
    bin_dir = (prefix or Path(sys.prefix)) / "bin"
    try:
        version = metadata.version("flwr")
    except metadata.PackageNotFoundError:
        raise InvalidInput(
            f"Flower is not installed; federated training needs it: {INSTALL_HINT}"
        ) from None
    if version.split(".")[:2] != SUPPORTED_SERIES.split("."):
        raise InvalidInput(
            f"Flower {version} is installed; medval's training needs Flower "
            f"{SUPPORTED_SERIES}.x: {INSTALL_HINT}"
        )
    missing = [name for name in COMMANDS if not os.access(bin_dir / name, os.X_OK)]
    if missing:
        raise InvalidInput(
            f"Flower's command {missing[0]} is not in {bin_dir}; reinstall: {INSTALL_HINT}"
        )
    return FlowerInstall(bin_dir=bin_dir, version=version)
