#!/usr/bin/env bash
# GaNDLF 0.1.5 (PyPI) on the CPU PyTorch wheel on this machine's disk, in its own venv.
# Only one pin is overridden: torch==2.7.1 -> 2.13.0+cpu (PyPI's 2.7.1 drags the CUDA wheels).
# PyPI's torchvision 0.28.0 (the one matching torch 2.13.0) is a CUDA build: its _C.so links
# libtorch_cuda.so/libc10_cuda.so, absent from the CPU torch, so its ops do not load, and
# torchvision/_meta_registrations.py then fails at import ("operator torchvision::nms does
# not exist") because its two register_fake calls are not guarded by _has_ops() as the
# other meta registrations are. We guard them (segmentation never uses nms/qnms).
set -euo pipefail
VENV=${1:-/tmp/gandlf-venv}
TORCH_WHEEL=${TORCH_WHEEL:-/opt/wheels/torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl}
WORK=$(mktemp -d)
python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "$TORCH_WHEEL"
"$VENV/bin/pip" download -q gandlf==0.1.5 --no-deps -d "$WORK"
unzip -q -o "$WORK"/gandlf-0.1.5-py3-none-any.whl 'gandlf-0.1.5.dist-info/METADATA' -d "$WORK"
grep '^Requires-Dist' "$WORK/gandlf-0.1.5.dist-info/METADATA" | sed 's/^Requires-Dist: //' \
    | grep -v '^torch==' >"$WORK/reqs.txt"
echo "torch==2.13.0+cpu" >"$WORK/keep-torch.txt"
"$VENV/bin/pip" install -q -r "$WORK/reqs.txt" -c "$WORK/keep-torch.txt"
"$VENV/bin/pip" install -q --no-deps "$WORK"/gandlf-0.1.5-py3-none-any.whl
SITE=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
sed -i 's/^@torch.library.register_fake("\(torchvision::q\?nms\)")$/@(torch.library.register_fake("\1") if torchvision.extension._has_ops() else (lambda fn: fn))/' \
    "$SITE/torchvision/_meta_registrations.py"
"$VENV/bin/gandlf" --help >/dev/null
echo "GaNDLF ready in $VENV"
