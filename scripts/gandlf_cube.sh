#!/usr/bin/env bash
# Package the trained GaNDLF model as an MLCube the way `gandlf deploy` does, but with the
# image built LOCALLY by Podman FROM a local base (no registry, no Docker daemon):
#   scripts/gandlf_cube.sh MODEL_DIR OUT [BASE_IMAGE]
# OUT/mlcube.yaml + OUT/workspace/config.yml: GaNDLF's own deploy code
# (scripts/gandlf/deploy_folder.py); the image localhost/medval-gandlf-brain:0.1.5 holds, as
# GaNDLF's deployed images do, /embedded_model, /embedded_config.yml, /embedded_mlcube.yml
# and /entrypoint.py, plus the GaNDLF venv at /opt/gandlf-venv (its scripts' #! rewritten),
# on BASE_IMAGE: a localhost/medval-python image (the same pyenv Python 3.11.7 the venv uses).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODEL=$1 OUT=$2
BASE=${3:-$(podman images --format '{{.Repository}}:{{.Tag}}' localhost/medval-python | head -1)}
GANDLF_VENV=${GANDLF_VENV:-/tmp/gandlf-venv}
IMAGE=localhost/medval-gandlf-brain:0.1.5
"$GANDLF_VENV/bin/python" "$ROOT/scripts/gandlf/deploy_folder.py" \
    "$ROOT/scripts/gandlf/train_config.yaml" "$OUT"
CONTEXT=$(mktemp -d /tmp/gandlf-context.XXXX)
cp -a "$GANDLF_VENV" "$CONTEXT/venv"
grep -lI "^#!$GANDLF_VENV/bin/python" "$CONTEXT"/venv/bin/* \
    | xargs sed -i "1s|^#!$GANDLF_VENV/|#!/opt/gandlf-venv/|"
# The system libraries the venv's compiled modules link (ldd, transitively) that are not
# inside the venv, e.g. libGL.so.1 for opencv-python: the base image holds only medval's.
mkdir "$CONTEXT/syslibs"
find "$GANDLF_VENV" -name '*.so*' -type f -print0 | xargs -0 ldd 2>/dev/null \
    | grep -o '=> /[^ ]*' | cut -c4- | grep -v "^$GANDLF_VENV" | sort -u \
    | while read -r lib; do  # by its folder's real path: /lib is a link to usr/lib
        dir=$(readlink -f "$(dirname "$lib")"); mkdir -p "$CONTEXT/syslibs$dir"
        cp -L "$lib" "$CONTEXT/syslibs$dir/"; done
cp -a "$MODEL" "$CONTEXT/model" && rm -rf "$CONTEXT"/model/output_*
cp "$OUT/workspace/config.yml" "$CONTEXT/config.yml"
cp "$OUT/mlcube.yaml" "$CONTEXT/mlcube.yaml"
cp "$ROOT/scripts/gandlf/mlcube/template/entrypoint.py" "$CONTEXT/entrypoint.py"
cat >"$CONTEXT/Containerfile" <<CONTAINERFILE
FROM $BASE
COPY syslibs/ /
COPY venv/ /opt/gandlf-venv/
COPY model/ /embedded_model/
COPY config.yml /embedded_config.yml
COPY mlcube.yaml /embedded_mlcube.yml
COPY entrypoint.py /entrypoint.py
ENV PATH=/opt/gandlf-venv/bin:/usr/bin:/bin HOME=/tmp MPLCONFIGDIR=/tmp
CONTAINERFILE
start=$(date +%s)
podman build -q -t "$IMAGE" "$CONTEXT"
echo "built $IMAGE FROM $BASE in $(( $(date +%s) - start )) s (load $(cut -d' ' -f1-3 /proc/loadavg))"
rm -rf "$CONTEXT"
