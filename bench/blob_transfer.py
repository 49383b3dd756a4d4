"""A container image's worth of blob through a real server: throughput and peak memory.

    .venv/bin/python bench/blob_transfer.py [--mib 1024]

A real server (``medval server start`` in a child process, SQLite in a temp folder) and
the real typed client: the client uploads a file of ``--mib`` MiB (random bytes, so
nothing compresses), downloads it into a cache file, and prints the throughput of each
way as a ratio of a baseline measured in the same run (copying the same file on the same
disk while hashing it, which is the least any transfer must do), and the peak resident
memory of the client and of the server process as a ratio of the blob's size: both stay
flat whatever the size (blobs move a chunk at a time: ``medval.client.transfers``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import tempfile
import time
from pathlib import Path

from medval.client.http import MedvalClient
from medval.demo.embedded_server import embedded_server
from medval.server.admin import create_admin
from medval.server.settings import ServerSettings
from medval.server.store.migrate import upgrade_database

PASSWORD = "bench-password"
MIB = 1 << 20


def _children_peak_kib() -> int:
    """The largest peak resident set (VmHWM) among this process's children."""
    peak = 0
    for task in Path("/proc/self/task").iterdir():
        for pid in (task / "children").read_text().split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    return peak


def _hashed_copy(source: Path, target: Path) -> None:
    digest = hashlib.sha256()
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(MIB):
            digest.update(chunk)
            writing.write(chunk)
        writing.flush()
        os.fsync(writing.fileno())


def run(mib: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDVAL_SERVER_PASSWORD_HASH_PROFILE"] = "test_only_cheapest"
        settings = ServerSettings(data_dir=Path(tmp) / "server")
        upgrade_database(settings)
        create_admin(settings, "admin", PASSWORD)
        source = Path(tmp) / "image.tar"
        digest = hashlib.sha256()
        with source.open("wb") as handle:
            for _ in range(mib):
                chunk = os.urandom(MIB)
                digest.update(chunk)
                handle.write(chunk)
        sha = digest.hexdigest()
        started = time.perf_counter()
        _hashed_copy(source, Path(tmp) / "baseline.tar")
        baseline = time.perf_counter() - started
        (Path(tmp) / "baseline.tar").unlink()
        client_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with embedded_server(settings.data_dir, Path(tmp) / "server.log") as url:
            token = MedvalClient(url).login("admin", PASSWORD).token
            with MedvalClient(url, token, timeout=600) as client:
                started = time.perf_counter()
                client.upload_blob(sha, source, "image archive")
                up = time.perf_counter() - started
                started = time.perf_counter()
                client.download_blob_to(sha, Path(tmp) / "cache" / "image.tar", "image archive")
                down = time.perf_counter() - started
            server_peak = _children_peak_kib()
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        copy_rate = mib / baseline
        print(f"blob: {mib} MiB; baseline: a hashed copy on this disk, {copy_rate:.1f} MiB/s")
        for way, seconds, where in (("upload", up, "server"), ("download", down, "client")):
            rate = mib / seconds
            print(
                f"{way:9} {seconds:6.1f} s  {rate:7.1f} MiB/s = {rate / copy_rate:.2f} x the "
                f"baseline (hashed on the {where} as it arrives)"
            )
        grown = (client_peak - client_before) / 1024
        print(
            f"peak resident memory: client +{grown:.0f} MiB during the transfers "
            f"= {grown / mib:.3f} x the blob; server {server_peak / 1024:.0f} MiB "
            f"= {server_peak / 1024 / mib:.3f} x the blob"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the blob in MiB")
    run(parser.parse_args().mib)


if __name__ == "__main__":
    main()
