"""The custom infer entrypoint of medval's GaNDLF model MLCube (GaNDLF's documented way,
``gandlf deploy --entrypoint``, for input folders that hold no GaNDLF data CSV).

    python3.11 /entrypoint.py --device cpu --data_path=DIR --output_path=DIR

This is the adapter between the imaging benchmark's contract and GaNDLF 0.1.5:
- input: the prepared data (``cases.csv``, ``images/<case_id>.nii.gz``) -> GaNDLF's data
  CSV (SubjectID, Channel_0), written to a scratch folder;
- GaNDLF writes its predictions into ``<model-dir>/output_inference/<id>/<id>_seg_process_rank_0
  .nii.gz`` (int16), NOT into ``--output-path``; the embedded model is read-only in a
  sandbox, so the model folder is copied to scratch first;
- output: ``<case_id>.nii.gz``, uint8 {0, 1}, the image's affine, one per case.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np

MODEL = Path("/embedded_model")
CONFIG = Path("/embedded_config.yml")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--output_path", type=Path, required=True)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--config", type=Path, default=CONFIG)
    args = parser.parse_args()
    data = args.data_path.resolve()
    with (args.data_path / "cases.csv").open(newline="") as handle:
        cases = [row["case_id"] for row in csv.DictReader(handle)]
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        model = scratch / "model"
        shutil.copytree(args.model, model, ignore=shutil.ignore_patterns("output_*"))
        with (scratch / "data.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["SubjectID", "Channel_0"])
            for case in cases:
                writer.writerow([case, str(data / "images" / f"{case}.nii.gz")])
        gandlf = Path(sys.executable).parent / "gandlf"
        command = [str(gandlf), "run", "--infer", "-c", str(args.config)]
        command += ["-i", str(scratch / "data.csv"), "-m", str(model), "-o", str(scratch / "o")]
        subprocess.run(command, check=True, cwd=scratch)
        for case in cases:
            image = nib.load(args.data_path / "images" / f"{case}.nii.gz")
            (found,) = (model / "output_inference" / case).glob(f"{case}_seg*.nii.gz")
            mask = np.asarray(nib.load(found).dataobj) > 0
            if mask.shape != image.shape:
                raise SystemExit(f"{case}: GaNDLF's mask is {mask.shape}, image {image.shape}")
            out = nib.Nifti1Image(mask.astype(np.uint8), image.affine)
            out.set_data_dtype(np.uint8)
            nib.save(out, args.output_path / f"{case}.nii.gz")
    return 0


if __name__ == "__main__":
    sys.exit(main())
