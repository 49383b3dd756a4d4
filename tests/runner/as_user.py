"""Run the runner contract suite a second time, as an unprivileged user the tests create.

``make test`` calls ``python -m tests.runner.as_user`` after the ordinary run. As root it:

- creates the user ``medval-tester`` when missing (a home folder, subordinate uid and gid
  ranges for rootless Podman, a member of the ``docker`` group so that it may use the
  Docker daemon's socket: that makes it root on the host in effect, Docker's own model);
- checks that the user can enter every folder down to the checkout and read it, and
  stops with one line naming the first folder or file it cannot;
- gives that user a virtual environment of its own, ``.venv-user``, made from Debian's
  ``/usr/bin/python3`` (``MEDVAL_USER_PYTHON`` names another; root's interpreter may
  live where others cannot enter, such as pyenv under ``/root``) with medval installed
  from this checkout;
- gives rootless Podman a runtime folder (``/run/user/UID``) and, when the user has none,
  a storage configuration with the kernel's own overlay driver;
- starts a Docker daemon when none answers (stopped afterwards);
- runs ``pytest tests/runner`` as that user, with a temporary folder it owns, and exits
  with pytest's status.

Run by an ordinary user, the ordinary run already was the unprivileged one: it says so in
one line and does nothing. Extra arguments are passed to pytest.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.runner.engines import EngineUnavailable, docker_daemon

USER = "medval-tester"
CHECKOUT = Path(__file__).resolve().parents[2]
USER_VENV = CHECKOUT / ".venv-user"
USER_PYTHON = Path(os.environ.get("MEDVAL_USER_PYTHON", "/usr/bin/python3"))
SUBORDINATE_FILES = (Path("/etc/subuid"), Path("/etc/subgid"))
SUBORDINATE_COUNT = 65536
STORAGE_CONF = '[storage]\ndriver = "overlay"\n'
# What the user must read: the project, the package and the suite, in the checkout.
CHECKED_FILES = [
    CHECKOUT / "pyproject.toml",
    CHECKOUT / "src" / "medval" / "__init__.py",
    CHECKOUT / "tests" / "runner" / "conftest.py",
]


class CannotRunAsUser(Exception):
    """Why the unprivileged run cannot happen here (one line)."""


def main(pytest_args: list[str]) -> int:
    if os.geteuid() != 0:
        print(
            f"as_user: run by uid {os.geteuid()}, not root: the runner suite above already "
            "ran unprivileged, so no test user is made and nothing runs again"
        )
        return 0
    started = time.monotonic()
    try:
        account = ensure_user()
        check_readable(account, [*CHECKED_FILES, USER_PYTHON.resolve()])
        ensure_user_venv()
        runtime_dir = ensure_podman_setup(account)
        with (
            tempfile.TemporaryDirectory(prefix="medval-dockerd-") as workdir,
            docker_daemon(Path(workdir)),
        ):
            suite_started = time.monotonic()
            status = run_suite(account, runtime_dir, pytest_args)
            suite_seconds = time.monotonic() - suite_started
    except (CannotRunAsUser, EngineUnavailable) as reason:
        print(f"as_user: cannot run the runner suite as {USER}: {reason}", file=sys.stderr)
        return 1
    print(
        f"as_user: {time.monotonic() - started:.0f} s in all, "
        f"{suite_seconds:.0f} s of it pytest as {USER}"
    )
    return status


def ensure_user() -> pwd.struct_passwd:
    """The test user, created when missing, with subordinate ids and the docker group."""
    try:
        account = pwd.getpwnam(USER)
    except KeyError:
        _root("useradd", "--create-home", "--shell", "/usr/sbin/nologin", USER)
        account = pwd.getpwnam(USER)
    for file, option in zip(SUBORDINATE_FILES, ("--add-subuids", "--add-subgids"), strict=True):
        if not _has_range(file, USER):
            start = _free_range_start(file)
            _root("usermod", option, f"{start}-{start + SUBORDINATE_COUNT - 1}", USER)
    try:
        docker = grp.getgrnam("docker")
    except KeyError:
        _root("groupadd", "--system", "docker")  # dockerd gives its socket to this group
        docker = grp.getgrnam("docker")
    if USER not in docker.gr_mem:
        _root("usermod", "--append", "--groups", "docker", USER)
    return account


def check_readable(account: pwd.struct_passwd, paths: list[Path]) -> None:
    """The user must be able to enter every folder down to each path, and read it."""
    folders = sorted({str(parent) for path in paths for parent in path.parents})
    script = (
        'for p in "$@"; do case "$p" in'
        ' -r:*) [ -r "${p#-r:}" ] || { echo "read ${p#-r:}"; exit 1; } ;;'
        ' *) [ -x "$p" ] || { echo "enter $p"; exit 1; } ;; esac; done'
    )
    answer = subprocess.run(
        ["runuser", "-u", account.pw_name, "--", "/bin/sh", "-c", script, "sh",
         *folders, *(f"-r:{path}" for path in paths)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if answer.returncode != 0:
        verb, _, blocked = (answer.stdout.strip() or answer.stderr.strip()).partition(" ")
        mode = os.stat(blocked).st_mode & 0o7777 if os.path.exists(blocked) else 0
        raise CannotRunAsUser(
            f"{account.pw_name} cannot {verb} {blocked} (mode {mode:o}): let others {verb} it, "
            "or check out medval (or point MEDVAL_USER_PYTHON) elsewhere"
        )


def ensure_user_venv() -> None:
    """``.venv-user``: USER_PYTHON with medval from this checkout, rebuilt when it changes.

    It is rebuilt when ``pyproject.toml`` or this file (which says what goes in) is newer
    than the last build.
    """
    stamp = USER_VENV / ".installed"
    recipes = (CHECKOUT / "pyproject.toml", Path(__file__))
    if stamp.exists() and all(stamp.stat().st_mtime >= f.stat().st_mtime for f in recipes):
        return
    if not USER_PYTHON.is_file():
        raise CannotRunAsUser(f"{USER_PYTHON} is missing: apt-get install python3")
    print(f"as_user: making {USER_VENV.name} from {USER_PYTHON}", flush=True)
    shutil.rmtree(USER_VENV, ignore_errors=True)
    _root(str(USER_PYTHON), "-m", "venv", "--without-pip", str(USER_VENV))
    # This (root's) pip installs into it, pip included: the client builds a cube's own
    # Python environment with its own pip (medval.runner.python_environments), as a
    # hospital's virtual environment made with `python3 -m venv` has one.
    pip = [sys.executable, "-m", "pip", "--python", str(USER_VENV / "bin" / "python")]
    _root(*pip, "install", "--quiet", "pip", "-e", f"{CHECKOUT}[dev]")
    stamp.touch()


def ensure_podman_setup(account: pwd.struct_passwd) -> Path:
    """A runtime folder for rootless Podman and, unless the user has one, overlay storage."""
    runtime_dir = Path("/run/user") / str(account.pw_uid)
    runtime_dir.mkdir(parents=True, exist_ok=True)
    os.chown(runtime_dir, account.pw_uid, account.pw_gid)
    runtime_dir.chmod(0o700)
    home = Path(account.pw_dir)
    config = home / ".config" / "containers" / "storage.conf"
    if not config.exists():
        for folder in (home / ".config", config.parent):
            folder.mkdir(exist_ok=True)
            os.chown(folder, account.pw_uid, account.pw_gid)
        config.write_text(STORAGE_CONF)
        os.chown(config, account.pw_uid, account.pw_gid)
    return runtime_dir


def run_suite(account: pwd.struct_passwd, runtime_dir: Path, pytest_args: list[str]) -> int:
    """``pytest tests/runner`` as the user, in a clean environment; its exit status."""
    basetemp = Path(tempfile.mkdtemp(prefix=f"pytest-of-{account.pw_name}-"))
    os.chown(basetemp, account.pw_uid, account.pw_gid)
    environment = {
        "HOME": account.pw_dir,
        "USER": account.pw_name,
        "LOGNAME": account.pw_name,
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG": "C.UTF-8",
        "XDG_RUNTIME_DIR": str(runtime_dir),
        "PYTHONDONTWRITEBYTECODE": "1",  # The checkout is root's.
    }
    if "DOCKER_HOST" in os.environ:
        environment["DOCKER_HOST"] = os.environ["DOCKER_HOST"]
    command = [
        "runuser", "-u", account.pw_name, "--",
        "env", "-i", *(f"{name}={value}" for name, value in environment.items()),
        str(USER_VENV / "bin" / "pytest"), "tests/runner",
        "-p", "no:cacheprovider", f"--basetemp={basetemp / 'run'}", *pytest_args,
    ]  # fmt: skip
    print(f"as_user: {' '.join(command[:4])} pytest tests/runner", flush=True)
    try:
        return subprocess.run(command, cwd=CHECKOUT, check=False).returncode
    finally:
        shutil.rmtree(basetemp, ignore_errors=True)


def _has_range(file: Path, user: str) -> bool:
    lines = file.read_text().splitlines() if file.exists() else []
    return any(line.split(":")[0] == user for line in lines)


def _free_range_start(file: Path) -> int:
    """The first id after every range already given out (at least 100000)."""
    ends = [100000]
    for line in file.read_text().splitlines() if file.exists() else []:
        parts = line.split(":")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            ends.append(int(parts[1]) + int(parts[2]))
    return max(ends)


def _root(*argv: str) -> None:
    answer = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if answer.returncode != 0:
        lines = [line for line in answer.stderr.splitlines() if line.strip()]
        raise CannotRunAsUser(f"{argv[0]} failed: {lines[-1] if lines else answer.returncode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
