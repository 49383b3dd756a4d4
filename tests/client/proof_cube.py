"""The 200-case proof's preparation cube and data: synthetic volumes of a few hundred KiB,
a per-case step that normalises each and draws a small PNG overlay for review (and fails on
a volume whose header is wrong), a review step, and the final ``prepare``.

It prepares through the client's :class:`~medval.client.execution.Executor` (what
``medval dataset prepare`` runs once it has the benchmark's cube), the cube archive read
from the workspace's cache, each task in the real local sandbox. Every task run is counted,
before it runs, in a file (``TASK CASE`` a line): the executor here is a subclass that
counts, the seam the tests read to prove what ran again.

Run as ``python -m tests.client.proof_cube HOME ARCHIVE_HASH RAW COUNTS JOBS`` to prepare in
a process of its own (the proof kills it mid-step); it exits 3 when a review waits.
"""

from __future__ import annotations

import random
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.registration import pack_cube
from medval.client.workspace import Workspace
from medval.core.cube_spec import CubeSpec
from medval.core.errors import Conflict
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.runner import BubblewrapRunner, Limits
from tests.e2e.script_cubes import write_cube

DATASET = "site-proof"
MAGIC = b"VOL1"

# normalise (per case): the volume's bytes stretched to the full range, and an overlay.
NORMALISE = """
    import struct, zlib
    [case] = os.listdir(args["data_path"])
    volume = open(os.path.join(args["data_path"], case, "volume.raw"), "rb").read()
    if volume[:4] != b"VOL1":
        sys.exit(f"case {case}: volume.raw has no VOL1 header")
    body = volume[4:]
    low, high = min(body), max(body)
    span = max(1, high - low)
    table = bytes(min(255, max(0, (v - low) * 255 // span)) for v in range(256))
    out = os.path.join(args["output_path"], case)
    os.makedirs(out)
    with open(os.path.join(out, "volume.raw"), "wb") as stream:
        stream.write(b"NRM1" + body.translate(table))
    # A 32 x 32 grey PNG of the first slice: what a reviewer looks at.
    rows = b"".join(b"\\0" + body[32 * r : 32 * r + 32].translate(table) for r in range(32))
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", 32, 32, 8, 0, 0, 0, 0)
    png = (b"\\x89PNG\\r\\n\\x1a\\n" + chunk(b"IHDR", header)
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    with open(os.path.join(out, "overlay.png"), "wb") as stream:
        stream.write(png)
    """

# prepare (once): the normalised volumes, and the labels of the cases that reached it.
PREPARE = """
    shutil.copytree(args["data_path"], args["output_path"], dirs_exist_ok=True)
    cases = sorted(os.listdir(args["data_path"]))
    labels = dict(line.split(",") for line in
                  open(os.path.join(args["labels_path"], "labels.csv")).read().split())
    with open(os.path.join(args["output_labels_path"], "labels.csv"), "w") as out:
        out.write("".join(f"{case},{labels[case]}\\n" for case in cases))
    """

SCRIPTS = {
    "prepare.py": PREPARE,
    "sanity_check.py": """
        for case in os.listdir(args["data_path"]):
            head = open(os.path.join(args["data_path"], case, "volume.raw"), "rb").read(4)
            if head != b"NRM1":
                sys.exit(f"case {case} is not normalised")
        """,
    "statistics.py": """
        n_cases = len(os.listdir(args["data_path"]))
        with open(os.path.join(args["output_path"], "statistics.json"), "w") as out:
            json.dump({"n_cases": n_cases}, out)
        """,
    "normalise.py": NORMALISE,
}

WORKFLOW = """workflow:
  steps:
    normalise: {task: normalise, runs: per_case}
    look:      {runs: review, files: ["*.png"]}
    prepare:   {task: prepare, runs: whole}
"""


def case_name(index: int) -> str:
    return f"subject-{index:03d}"


def write_proof_cube(root: Path) -> Path:
    folder = write_cube(root, "proof-prep", "data_preparator", SCRIPTS)
    spec = folder / "medval-cube.yaml"
    spec.write_text(spec.read_text() + WORKFLOW)
    return folder


def write_volumes(raw: Path, count: int, broken: tuple[int, ...]) -> tuple[Path, Path]:
    """``count`` subjects, each ``volume.raw`` of 192 to 447 KiB of seeded bytes (the same
    every time); a broken one lacks its header. Labels: one ``case,label`` line each."""
    data, labels = raw / "data", raw / "labels"
    labels.mkdir(parents=True)
    lines = []
    for index in range(count):
        seeded = random.Random(index)
        size = (192 + index % 256) * 1024
        folder = data / case_name(index)
        folder.mkdir(parents=True)
        header = b"XXXX" if index in broken else MAGIC
        (folder / "volume.raw").write_bytes(header + seeded.randbytes(size))
        lines.append(f"{case_name(index)},{index % 2}\n")
    (labels / "labels.csv").write_text("".join(lines))
    return data, labels


class CountingExecutor(Executor):
    """The executor, every task run counted in ``counts`` before it runs (``TASK CASE``,
    ``all`` for a task given several cases)."""

    counts: Path

    def run_unpacked(
        self,
        cube: CubePublic,
        folder: Path,
        spec: CubeSpec,
        image: str | None,
        task: str,
        mounts: Mapping[str, Path],
    ) -> CubeSpec:
        entries = sorted(p.name for p in mounts["data_path"].iterdir())
        what = entries[0] if len(entries) == 1 else "all"
        with self.counts.open("a") as out:
            out.write(f"{task} {what}\n")
        return super().run_unpacked(cube, folder, spec, image, task, mounts)


def cached_cube(home: Path, cube_folder: Path) -> str:
    """The cube packed into ``home``'s cache, as a download would leave it; its hash."""
    packed = pack_cube(cube_folder)
    workspace = Workspace(home)
    workspace.cubes_dir.mkdir(parents=True, exist_ok=True)
    workspace.cube_archive(packed.sha256).write_bytes(packed.archive)
    return packed.sha256


def proof_cube(archive_hash: str) -> CubePublic:
    return CubePublic(
        id=7, name="proof-prep", kind=CubeKind.DATA_PREPARATOR, archive_hash=archive_hash,
        owner_id=1, owner="committee", stage=Stage.OPERATION, created_at=datetime.now(UTC),
    )  # fmt: skip


def counting_executor(home: Path, counts: Path) -> CountingExecutor:
    client = MedvalClient("http://127.0.0.1:9")  # never asked: the archive is cached
    executor = CountingExecutor(client, Workspace(home), BubblewrapRunner(), Limits())
    executor.counts = counts
    return executor


def prepare(home: Path, archive_hash: str, raw: Path, counts: Path, jobs: int) -> str:
    """Prepare (or resume) the dataset; its hash, or :class:`Conflict` while a review waits."""
    executor = counting_executor(home, counts)
    out = executor.workspace.dataset_dir(DATASET)
    data_hash, _ = executor.prepare(
        proof_cube(archive_hash), raw / "data", raw / "labels", out, benchmark_k=10, jobs=jobs
    )
    return data_hash


def runs(counts: Path) -> list[str]:
    return counts.read_text().splitlines() if counts.exists() else []


if __name__ == "__main__":
    home, archive, raw_folder, counts_file, jobs = sys.argv[1:]
    try:
        prepare(Path(home), archive, Path(raw_folder), Path(counts_file), int(jobs))
    except Conflict:
        sys.exit(3)
