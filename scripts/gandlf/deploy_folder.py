"""The deployed MLCube folder of medval's GaNDLF model, by GaNDLF's own deploy code.

    /tmp/gandlf-venv/bin/python scripts/gandlf/deploy_folder.py CONFIG OUT

``gandlf deploy -t docker --mlcube-type model`` first writes the output folder (the
template's ``workspace/``, the config as ``workspace/config.yml``, ``mlcube.yaml`` from
``GANDLF.cli.deploy.get_model_mlcube_config``), then builds GaNDLF's Dockerfile with
``mlcube_docker`` FROM a Docker Hub image and embeds the model with the Docker daemon:
neither registry nor daemon is reachable here. This script does the first part by calling
that same GaNDLF function (the custom entrypoint makes the infer task
``python3.11 /entrypoint.py --device cpu``); the image is built by
scripts/gandlf_cube.sh with Podman FROM a local base instead.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import yaml
from GANDLF.cli.deploy import get_model_mlcube_config

TEMPLATE = Path(__file__).resolve().parent / "mlcube" / "template"


def main() -> None:
    config, out = Path(sys.argv[1]), Path(sys.argv[2])
    (out / "workspace").mkdir(parents=True)
    shutil.copyfile(config, out / "workspace" / "config.yml")
    spec = get_model_mlcube_config(
        str(TEMPLATE / "mlcube.yaml"), False, str(TEMPLATE / "entrypoint.py")
    )
    (out / "mlcube.yaml").write_text(yaml.dump(spec, sort_keys=False, default_flow_style=False))
    print(f"deployed MLCube folder: {out}")


if __name__ == "__main__":
    main()
