"""Contract: a cube cannot get out. Each test is a cube that tries, and must fail.

Runs against every runner in ``RUNNER_FACTORIES`` (see conftest.py).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import medval
from medval.runner import Limits, Runner

from .cubes import CubeMaker

pytestmark = pytest.mark.sandbox

FAST = Limits(timeout_seconds=30, memory_bytes=1 << 30)
# The source checkout (or site-packages) that medval is imported from.
SOURCE = Path(medval.__file__).resolve().parents[1]


@pytest.fixture
def host_listener() -> Iterator[socket.socket]:
    """A real TCP listener on the host's loopback, which no cube may reach."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.setblocking(False)
        yield server


def test_no_network_not_even_the_host_loopback(
    runner: Runner, make_cube: CubeMaker, host_listener: socket.socket
) -> None:
    port = host_listener.getsockname()[1]
    cube = make_cube(
        f"""
        import socket
        def attempt(address):
            try:
                socket.create_connection(address, timeout=2).close()
                return "connected"
            except OSError as exc:
                return type(exc).__name__
        report({{
            "host_loopback": attempt(("127.0.0.1", {port})),
            "outside": attempt(("192.0.2.1", 80)),
            "interfaces": [name for _, name in socket.if_nameindex()],
        }})
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert report["host_loopback"] != "connected"
    assert report["outside"] != "connected"
    assert set(report["interfaces"]) <= {"lo"}
    with pytest.raises(BlockingIOError):
        host_listener.accept()  # nobody knocked


def test_host_abstract_unix_socket_is_unreachable(runner: Runner, make_cube: CubeMaker) -> None:
    name = f"medval-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind("\0" + name)
        server.listen(1)
        cube = make_cube(
            f"""
            import socket
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect("\\0{name}")
                report("connected")
            except OSError as exc:
                report(type(exc).__name__)
            """
        )
        runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert cube.report() != "connected"


def test_host_files_outside_the_mounts_are_invisible(
    runner: Runner, make_cube: CubeMaker, tmp_path: Path
) -> None:
    planted = tmp_path / "planted-secret.txt"
    planted.write_text("patient list")
    home = Path.home()
    cube = make_cube(
        """
        targets = json.load(open(os.path.join(args["data_path"], "targets.json")))
        etc = sorted(os.listdir("/etc")) if os.path.isdir("/etc") else []
        report({
            "exists": {path: os.path.exists(path) for path in targets["files"]},
            "home": sorted(os.listdir(targets["home"])) if os.path.isdir(targets["home"]) else [],
            "root": sorted(os.listdir("/")),
            "etc": {name: open("/etc/" + name).read() for name in etc},
        })
        """,
        data_files={
            "targets.json": json.dumps(
                {
                    "files": [
                        str(planted),
                        str(tmp_path),
                        str(SOURCE / "medval" / "__init__.py"),
                        str(SOURCE),
                        "/etc/shadow",
                        "/etc/os-release",
                        "/var/run",
                        "/sys/kernel",
                    ],
                    "home": str(home),
                }
            )
        },
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert not any(report["exists"].values()), report["exists"]
    # The home folder shows at most the path down to the Python install, if it lives there.
    assert set(report["home"]) <= _runtime_entries_in(home)
    assert "home" not in report["root"]
    if runner.kind == "local":
        assert "etc" not in report["root"]  # bubblewrap shows no /etc at all
        return
    # A container engine writes its own /etc/hosts, hostname, resolv.conf (and Podman a
    # passwd and group for the cube's user); none of them is the host's file. Docker's
    # resolv.conf is a copy of the host's resolver lines, useless without a network.
    assert set(report["etc"]) <= ENGINE_WRITTEN_ETC, sorted(report["etc"])
    for name, content in report["etc"].items():
        if name == "resolv.conf":
            assert all(
                line.startswith(("nameserver", "search", "options", "#"))
                for line in content.splitlines()
                if line.strip()
            )
            continue
        host_file = Path("/etc") / name
        if host_file.is_file() and not host_file.is_symlink():
            assert content != host_file.read_text(errors="replace"), f"/etc/{name} is the host's"


ENGINE_WRITTEN_ETC = {"hosts", "hostname", "resolv.conf", "mtab", "passwd", "group"}


def _runtime_entries_in(folder: Path) -> set[str]:
    """Names in ``folder`` that lead to this Python's install or virtual environment."""
    runtime = {Path(prefix).resolve() for prefix in (sys.prefix, sys.base_prefix)}
    return {p.relative_to(folder).parts[0] for p in runtime if p.is_relative_to(folder)}


ENGINE_SOCKETS = (
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/run/podman/podman.sock",
    "/run/containerd/containerd.sock",
    "/run/user/0/podman/podman.sock",
)


def test_container_engine_sockets_are_unreachable(runner: Runner, make_cube: CubeMaker) -> None:
    """Whoever reaches an engine's socket can start a privileged container: root on the host."""
    cube = make_cube(
        f"""
        import socket
        outcomes = {{}}
        for path in {list(ENGINE_SOCKETS)!r}:
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect(path)
                outcomes[path] = "connected"
            except OSError as exc:
                outcomes[path] = type(exc).__name__
        report(outcomes)
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert set(report) == set(ENGINE_SOCKETS)
    assert "connected" not in report.values(), report


def test_inputs_are_read_only(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        outcomes = {}
        for path in ("cases.csv", "new.csv"):
            try:
                with open(os.path.join(args["data_path"], path), "w") as handle:
                    handle.write("tampered")
                outcomes[path] = "written"
            except OSError as exc:
                outcomes[path] = exc.strerror
        try:
            os.remove(os.path.join(args["data_path"], "cases.csv"))
            outcomes["remove"] = "removed"
        except OSError as exc:
            outcomes["remove"] = exc.strerror
        report(outcomes)
        """,
        data_files={"cases.csv": "id,age\n1,50\n"},
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert "written" not in report.values() and report["remove"] != "removed"
    assert (cube.data / "cases.csv").read_text() == "id,age\n1,50\n"
    assert not (cube.data / "new.csv").exists()


def test_only_outputs_and_tmp_are_writable(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        places = ["/", "/cube", "/mlcube_io", "/usr", "/usr/local", "/proc/sys/kernel", "/sys",
                  sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)]
        writable = []
        for place in places:
            try:
                with open(os.path.join(place, "escape.txt"), "w") as handle:
                    handle.write("x")
                writable.append(place)
            except OSError:
                pass
        with open("/tmp/scratch.txt", "w") as handle:
            handle.write("fine")
        report(writable)
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    assert cube.report() == []
    assert not (cube.folder / "escape.txt").exists()


def test_host_environment_does_not_leak(
    runner: Runner, make_cube: CubeMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDVAL_TEST_CANARY", "secret-token")
    cube = make_cube("report(dict(os.environ))")
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    environment = cube.report()
    assert "MEDVAL_TEST_CANARY" not in environment
    assert "secret-token" not in json.dumps(environment)
    assert environment["HOME"] == "/tmp"
    assert environment["OMP_NUM_THREADS"] == "1"
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "LC_CTYPE", "PWD", "HOSTNAME"}
    unexpected = [
        name
        for name in environment
        if name not in allowed and not name.startswith("PYTHON") and "_NUM_THREADS" not in name
    ]
    assert unexpected == []


def test_not_root_and_no_capabilities(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        import ctypes
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        report({
            "uid": os.getuid(), "euid": os.geteuid(), "gid": os.getgid(),
            "CapEff": status["CapEff"].strip(), "CapPrm": status["CapPrm"].strip(),
            "NoNewPrivs": status["NoNewPrivs"].strip(),
            # A new user namespace would hand the cube a fresh set of capabilities.
            "new_user_namespace": ctypes.CDLL(None, use_errno=True).unshare(0x10000000) == 0,
        })
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    uid, gid = cube_identity(runner)
    assert uid != 0 and report["uid"] == report["euid"] == uid and report["gid"] == gid
    assert int(report["CapEff"], 16) == 0 and int(report["CapPrm"], 16) == 0
    assert report["NoNewPrivs"] == "1"
    assert report["new_user_namespace"] is False


def cube_identity(runner: Runner) -> tuple[int, int]:
    """Who the cube is: bubblewrap makes it 65534 in its own user namespace; an engine
    makes it 65534 for a root client, and otherwise the invoking user's own uid and gid."""
    if runner.kind == "local" or os.getuid() == 0:
        return 65534, 65534
    return os.getuid(), os.getgid()


def test_tmp_is_fresh_for_every_run(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        seen = sorted(os.listdir("/tmp"))
        with open("/tmp/leftover.txt", "w") as handle:
            handle.write("from an earlier run")
        report(seen)
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    # Nothing survives from the earlier run. The only entries allowed are the mount
    # points of the read-only Python runtime, when it lives under /tmp (a checkout
    # in /tmp, as CI may use).
    runtime_tops = {
        Path(prefix).parts[2]
        for prefix in {sys.prefix, sys.base_prefix}
        if Path(prefix).parts[1:2] == ("tmp",) and len(Path(prefix).parts) > 2
    }
    assert set(cube.report()) <= runtime_tops


def test_own_proc_and_minimal_dev(runner: Runner, make_cube: CubeMaker) -> None:
    cube = make_cube(
        """
        report({
            "pids": [entry for entry in os.listdir("/proc") if entry.isdigit()],
            "dev": sorted(os.listdir("/dev")),
        })
        """
    )
    runner.run(cube.folder, cube.spec, "infer", cube.mounts, FAST)
    report = cube.report()
    assert len(report["pids"]) < 5, report["pids"]
    devices = {"null", "zero", "full", "random", "urandom", "tty"}
    block_or_disk = [name for name in report["dev"] if name.startswith(("sd", "nvme", "vd"))]
    assert block_or_disk == []
    assert devices <= set(report["dev"])
