"""A container image's worth of blob through a real server: throughput and peak memory.

    .venv/bin/python bench/blob_transfer.py [--mib 1024]

A real server (``medval server start`` in a child process, SQLite in a temp folder) and
the real typed client: the client uploads a file of ``--mib`` MiB (random bytes, so
nothing compresses), downloads it into a cache file, and prints the throughput of each
way and the peak resident memory of the client and of the server process, which stay
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
        print(f"blob: {mib} MiB")
        print(f"upload:   {up:6.1f} s  {mib / up:7.1f} MiB/s (hashed on the server as it arrives)")
        print(
            f"download: {down:6.1f} s  {mib / down:7.1f} MiB/s (hashed on the client as it arrives)"
        )
        print(
            f"peak resident memory: client {client_peak / 1024:.0f} MiB "
            f"(+{(client_peak - client_before) / 1024:.0f} MiB during the transfers), "
            f"server {server_peak / 1024:.0f} MiB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="size of the blob in MiB")
    run(parser.parse_args().mib)


if __name__ == "__main__":
    main()
