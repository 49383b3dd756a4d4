"""How much hashing a real imaging folder costs before a run: thousands of DICOM files,
hundreds of MB, hashed by medval against the predecessor's scheme and against plainly
reading the same files.

    .venv/bin/python bench/imaging_hashing.py [--series 30] [--runs 5]

The folder is made from a real scan: the head CT of Debian's ``invesalius-examples``
(InVesalius's ``Cranium.inv3``, "ProMED CT 0051": 108 axial slices of 256 x 256, int16,
0.957 x 0.957 x 1.5 mm), every slice written as one DICOM file (CT Image Storage, with
pydicom), as a hospital's PACS export lays a study out: ``<series>/<slice>.dcm``. SERIES
copies of the series are written (30 by default: 3,240 files, about 400 MB); each copy's
pixel values are offset by its index (+1 HU per copy), so no two files are alike and no
deduplicating file system flatters the figures. The files are written to a scratch
folder, removed afterwards.

The three ways of reading it, and the bars, are those of ``bench/dataset_hashing.py``
(medval's ``tree_hash``, which ``medval run`` does once per run; the predecessor's
one-thread SHA-256 per file; ``cat`` of every file), each warm, the order rotating from
run to run. Figures: the median seconds, MB/s, medval against the predecessor (bar 3x) and
against reading (bar at least half reading's speed); a cold-cache run of each with root.
Needs pydicom (``pip install -e '.[imaging]'``) and ``apt-get install invesalius-examples``.
"""

from __future__ import annotations

import argparse
import os
import plistlib
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import IO

import numpy as np
from dataset_hashing import measure

from medval.core.hashing import HASHING_THREADS

CRANIUM = Path("/usr/share/doc/invesalius-examples/examples/Cranium.inv3")


class Missing(Exception):
    """What this machine lacks to run the bench (one line)."""


def read_cranium(path: Path) -> tuple[np.ndarray, tuple[float, float, float]]:
    """The CT volume (slices, rows, columns) and its spacing (x, y, z) in mm."""
    if not path.is_file():
        raise Missing(f"{path} is missing: apt-get install invesalius-examples")
    with tarfile.open(path) as archive:
        members = {Path(m.name).name: m for m in archive.getmembers() if m.isfile()}
        main = plistlib.load(_read(archive, members["main.plist"]))
        matrix = main["matrix"]
        raw = _read(archive, members[matrix["filename"]]).read()
    volume = np.frombuffer(raw, dtype=matrix["dtype"]).reshape(matrix["shape"])
    x, y, z = (float(value) for value in main["spacing"])
    return volume, (x, y, z)


def _read(archive: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    handle = archive.extractfile(member)
    if handle is None:
        raise Missing(f"{CRANIUM}: {member.name} is not a file")
    return handle


def write_series(
    root: Path, volume: np.ndarray, spacing: tuple[float, float, float], copy: int
) -> None:
    """One copy of the CT as a DICOM series, one file per slice."""
    # Imported here: a missing pydicom is one line (main), not a traceback at import.
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder = root / f"series-{copy:03d}"
    folder.mkdir(parents=True)
    study, series = generate_uid(), generate_uid()
    for index, plane in enumerate(volume):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        data = FileDataset(str(folder), {}, file_meta=meta, preamble=b"\0" * 128)
        data.SOPClassUID, data.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        data.Modality, data.PatientID = "CT", "invesalius-cranium"
        data.StudyInstanceUID, data.SeriesInstanceUID = study, series
        data.SeriesNumber, data.InstanceNumber = copy + 1, index + 1
        data.ImagePositionPatient = [0.0, 0.0, index * spacing[2]]
        data.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        data.PixelSpacing = [spacing[1], spacing[0]]
        data.SliceThickness = spacing[2]
        data.Rows, data.Columns = plane.shape
        data.SamplesPerPixel, data.PhotometricInterpretation = 1, "MONOCHROME2"
        data.BitsAllocated, data.BitsStored, data.HighBit, data.PixelRepresentation = 16, 16, 15, 1
        data.RescaleIntercept, data.RescaleSlope = 0, 1
        data.PixelData = (plane.astype(np.int16) + copy).tobytes()
        data.save_as(folder / f"slice-{index:04d}.dcm", enforce_file_format=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--series", type=int, default=30, help="copies of the CT series")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    try:
        volume, spacing = read_cranium(CRANIUM)
        import pydicom  # noqa: F401
    except Missing as missing:
        print(f"imaging_hashing: {missing}", file=sys.stderr)
        return 2
    except ImportError:
        print("imaging_hashing: pydicom is missing: pip install -e '.[imaging]'", file=sys.stderr)
        return 2
    print(
        f"medval hashes with {HASHING_THREADS} thread(s) on {os.cpu_count()} core(s); "
        f"load average {Path('/proc/loadavg').read_text().split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="medval-imaging-hashing-") as scratch:
        root = Path(scratch, "study")
        for copy in range(args.series):
            write_series(root, volume, spacing, copy)
        files = list(root.rglob("*.dcm"))
        total = sum(path.stat().st_size for path in files)
        name = f"{len(files)} DICOM files ({args.series} series of {len(volume)} CT slices)"
        missed = measure(name, root, total, args.runs)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
