"""How fast medval hashes a prepared dataset, against the predecessor's scheme and against
plainly reading the same files.

    .venv/bin/python bench/dataset_hashing.py [--mib 1024 --files 2000 --small 20000] [--runs 5]

Two trees are written to a scratch folder (removed after): MIB MiB of random bytes in
FILES files, and SMALL files of 4 KiB. On each, three ways of reading it run one right
after the other, the order rotating from run to run (a noisy machine weighs on all
alike), warm (each read once, untimed, first):

- medval: ``medval.core.hashing.tree_hash``, as ``medval run`` and ``dataset prepare`` do;
- the predecessor's scheme (the baseline): SHA-256 of each file in 64 KiB blocks, one
  thread, then SHA-256 of the sorted file hashes (MedPerf's, written here from its
  description; its code is not copied);
- reading: every file read whole and thrown away (``cat`` through ``xargs``), no hash.

Figures: each way's median seconds and MB/s; medval's speed as a ratio to the baseline's
(bar: at least 3 times) and to reading's (bar: at least half). With root, one cold-cache
run of each (the page cache dropped before each) is reported too; without, it says so.
The defaults are smaller than issue 14's 1 GiB in 2,000 files and 20,000 small files, so
that a run takes a minute here; pass the issue's sizes to measure its bars.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from medval.core.hashing import HASHING_THREADS, tree_hash

BAR_BASELINE = 3.0
BAR_READING = 0.5


def predecessor(root: Path) -> str:
    hashes = []
    for folder, _, names in os.walk(root):
        for name in names:
            digest = hashlib.sha256()
            with open(os.path.join(folder, name), "rb") as handle:
                while block := handle.read(1 << 16):
                    digest.update(block)
            hashes.append(digest.hexdigest())
    return hashlib.sha256("".join(sorted(hashes)).encode()).hexdigest()


def medval(root: Path) -> str:
    return tree_hash(root)


def reading(root: Path) -> str:
    subprocess.run(
        f"find {root} -type f -print0 | xargs -0 cat > /dev/null", shell=True, check=True
    )
    return ""


WAYS: dict[str, Callable[[Path], str]] = {
    "medval": medval,
    "predecessor": predecessor,
    "reading": reading,
}


def write_tree(root: Path, files: int, size: int) -> int:
    root.mkdir(parents=True)
    per_folder = 500
    for index in range(files):
        folder = root / f"part-{index // per_folder:04d}"
        folder.mkdir(exist_ok=True)
        (folder / f"case-{index:06d}.bin").write_bytes(os.urandom(size))
    return files * size


def clock(way: Callable[[Path], str], root: Path) -> float:
    start = time.perf_counter()
    way(root)
    return time.perf_counter() - start


def drop_caches() -> bool:
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def measure(name: str, root: Path, total: int, runs: int) -> int:
    for way in WAYS.values():
        way(root)  # warm: the page cache holds the tree
    seconds: dict[str, list[float]] = {way: [] for way in WAYS}
    names = list(WAYS)
    for run in range(runs):
        for way in names[run % len(names) :] + names[: run % len(names)]:
            seconds[way].append(clock(WAYS[way], root))
    median = {way: statistics.median(found) for way, found in seconds.items()}
    print(f"{name}: {total / 2**20:.0f} MiB, warm, median of {runs} runs")
    for way in names:
        print(f"  {way:12} {median[way]:7.3f} s  {total / median[way] / 1e6:7.0f} MB/s")
    to_baseline = median["predecessor"] / median["medval"]
    to_reading = median["reading"] / median["medval"]
    met_baseline, met_reading = to_baseline >= BAR_BASELINE, to_reading >= BAR_READING
    print(
        f"  medval is {to_baseline:.2f}x the predecessor's speed "
        f"(bar {BAR_BASELINE:.0f}x: {'met' if met_baseline else 'MISSED'}), "
        f"{to_reading:.2f}x reading's (bar {BAR_READING}: {'met' if met_reading else 'MISSED'})"
    )
    cold = {}
    for way in names:
        if not drop_caches():
            print("  cold cache: not measured (dropping the page cache needs root)")
            break
        cold[way] = clock(WAYS[way], root)
    if cold:
        shown = ", ".join(f"{way} {value:.3f} s" for way, value in cold.items())
        print(f"  cold cache (one run each): {shown}")
    return (not met_baseline) + (not met_reading)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mib", type=int, default=256, help="size of the big tree (issue: 1024)")
    parser.add_argument("--files", type=int, default=500, help="its files (issue: 2000)")
    parser.add_argument("--small", type=int, default=5000, help="4 KiB files (issue: 20000)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"medval hashes with {HASHING_THREADS} thread(s) on {os.cpu_count()} core(s)")
    missed = 0
    with tempfile.TemporaryDirectory(prefix="medval-hashing-") as scratch:
        big = Path(scratch, "big")
        size = args.mib * 2**20 // args.files
        missed += measure(f"{args.files} files", big, write_tree(big, args.files, size), args.runs)
        small = Path(scratch, "small")
        missed += measure(
            f"{args.small} files of 4 KiB", small, write_tree(small, args.small, 4096), args.runs
        )
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
