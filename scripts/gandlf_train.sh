#!/usr/bin/env bash
# Train medval's GaNDLF brain-mask model on the CPU with GaNDLF's own CLI (issue 15).
#   scripts/gandlf_train.sh [OUT]   (default /tmp/gandlf-train; GaNDLF venv: $GANDLF_VENV)
# 1. the training cases: axial slices of the imaging benchmark's two scans that none of its
#    scored slabs holds (scripts/gandlf/training_cases.py, on medval's own Python);
# 2. `gandlf run --train` with scripts/gandlf/train_config.yaml (a 2D U-Net, 12 epochs).
# The model folder is OUT/model (GaNDLF's layout: unet_best.pth.tar, parameters.pkl, ...);
# wall time and load average are printed at the end.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-/tmp/gandlf-train}
GANDLF_VENV=${GANDLF_VENV:-/tmp/gandlf-venv}
MEDVAL_PYTHON=${MEDVAL_PYTHON:-$ROOT/.venv/bin/python}
WHEELS=${WHEELS:-$ROOT/.imaging-wheels}
[ -x "$GANDLF_VENV/bin/gandlf" ] || { echo "no GaNDLF in $GANDLF_VENV: run scripts/gandlf_env.sh" >&2; exit 2; }
[ ! -e "$OUT" ] || { echo "$OUT exists: give an empty path" >&2; exit 2; }
PYTHONPATH=$ROOT/src "$MEDVAL_PYTHON" "$ROOT/scripts/gandlf/training_cases.py" "$OUT" --wheels "$WHEELS"
cp "$ROOT/scripts/gandlf/train_config.yaml" "$OUT/config.yaml"
start=$(date +%s)
(cd "$OUT" && "$GANDLF_VENV/bin/gandlf" run -c config.yaml -i train.csv,validation.csv \
    --train -m model >train.log 2>&1) || { tail -20 "$OUT/train.log" >&2; exit 1; }
end=$(date +%s)
echo "trained in $((end - start)) s (load average $(cut -d' ' -f1-3 /proc/loadavg)); model: $OUT/model"
tail -3 "$OUT/model/logs_validation.csv"
