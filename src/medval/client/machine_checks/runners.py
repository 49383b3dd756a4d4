"""The runners' rows: can each sandbox run a task here, with every one of its limits?

The local runner (bubblewrap): bubblewrap found, the system-call filter compiled, a
control group for each limit, and a trial task actually run in the sandbox (which is
where user namespaces are tried). Docker and Podman: the engine answers (version,
rootless or not), its seccomp profile, and a cgroup for each limit; no container starts.

A problem of the configured runner is a failure; of another runner, a warning.
"""

from __future__ import annotations

import os

from medval.client.machine_checks.results import CheckResult, Machine, ok, problem
from medval.core.errors import SandboxError
from medval.runner import cgroups, syscall_policy
from medval.runner.bubblewrap import BubblewrapRunner
from medval.runner.container import ContainerRunner
from medval.runner.engine_facts import CGROUP_LIMITS, EngineFacts, engine_facts
from medval.runner.identity import Identity
from medval.runner.interface import Limits, Runner
from medval.runner.trial_task import run_trial_task

_OTHER_RUNNERS = "or choose another runner (--runner docker or podman)"
_USER_NAMESPACES = (
    "allow unprivileged user namespaces: sysctl -w kernel.unprivileged_userns_clone=1 "
    "(Debian), or kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu 24.04); " + _OTHER_RUNNERS
)
_DELEGATION = (
    "give this account a control group it may write with the memory and pids controllers "
    "(cgroup v2: run medval under 'systemd-run --user --scope -p Delegate=yes'; cgroup v1: "
    "chown the account's memory and pids groups), " + _OTHER_RUNNERS
)
_ENGINE_DELEGATION = (
    "run the engine on cgroup v2 with the memory, pids and cpu controllers delegated to "
    "it (rootless: systemd's user@.service with Delegate=yes), or use --runner local"
)
# What a limit is called in a row, for the local runner's two and an engine's three.
_LIMIT_NAMES = {"memory": "memory", "pids": "processes", "cpu": "CPU"}


def local_runner_rows(
    runner: BubblewrapRunner, limits: Limits, machine: Machine, configured: bool
) -> list[CheckResult]:
    """bubblewrap, the seccomp filter, a control group per limit, and a trial task."""
    rows = []
    try:
        bwrap, version = runner.found_bwrap()
    except SandboxError as exc:
        fix = "install it: apt-get install bubblewrap (dnf install bubblewrap); " + _OTHER_RUNNERS
        rows.append(problem("local: bubblewrap", exc.message, fix, configured))
        bwrap = None
    else:
        rows.append(ok("local: bubblewrap", f"bubblewrap {version} at {bwrap}"))
    seccomp_works = _seccomp_row(rows, configured)
    rows += _local_limit_rows(machine, configured)
    if bwrap is not None and seccomp_works:
        rows.append(_trial_row(runner, limits, configured))
    rows.append(_task_namespace_row(runner))
    return rows


def _seccomp_row(rows: list[CheckResult], configured: bool) -> bool:
    try:
        os.close(syscall_policy.filter_file())
    except SandboxError as exc:
        fix = "install libseccomp: apt-get install libseccomp2 (dnf install libseccomp)"
        rows.append(problem("local: seccomp", exc.message, fix, configured))
        return False
    refused = len(syscall_policy.refused_calls())
    rows.append(ok("local: seccomp", f"the system-call filter compiles ({refused} calls refused)"))
    return True


def _local_limit_rows(machine: Machine, configured: bool) -> list[CheckResult]:
    support = cgroups.find_support(machine.cgroup_root, machine.own_cgroups)
    rows = []
    for controller in cgroups.CONTROLLERS:
        check = f"local: {_LIMIT_NAMES[controller]} limit"
        if isinstance(support, cgroups.Support):
            where = support.parents[controller]
            rows.append(
                ok(check, f"cgroup v{support.version}: a task's group under {where} holds it")
            )
        else:
            found = f"{support}: each process of a task is limited alone, not the task whole"
            rows.append(problem(check, found, _DELEGATION, configured))
    rows.append(ok("local: CPU limit", "none: the local runner sets no CPU limit"))
    return rows


def _trial_row(runner: Runner, limits: Limits, configured: bool) -> CheckResult:
    check = "local: trial task"
    try:
        seconds = run_trial_task(runner, limits)
    except SandboxError as exc:
        namespaces = "namespace" in exc.message
        fix = _USER_NAMESPACES if namespaces else f"fix what the message names, {_OTHER_RUNNERS}"
        return problem(check, exc.message, fix, configured)
    return ok(check, f"ran in the sandbox (user namespaces, seccomp, limits) in {seconds:.2f} s")


def _task_namespace_row(runner: BubblewrapRunner) -> CheckResult:
    """Whether a PID namespace holds each task (runner.task_namespace): only a warning
    without, since tasks run and are limited as before."""
    check = "local: tasks end with the client"
    if runner.namespaces.holding_command(Identity.for_invoking_user()):
        return ok(check, "a PID namespace holds each task: no process of it outlives the client")
    found = (
        f"'{runner.namespaces.program}' is missing, or refuses this account a PID namespace: "
        "a client killed as a task starts may leave a process of it behind"
    )
    fix = "install util-linux 2.38 or later (unshare --map-current-user); " + _USER_NAMESPACES
    return problem(check, found, fix, fails=False)


def engine_rows(runner: ContainerRunner, limits: Limits, configured: bool) -> list[CheckResult]:
    """The engine answers; its seccomp profile; a cgroup for each of a task's limits."""
    kind = runner.kind
    try:
        found = engine_facts(runner)
    except SandboxError as exc:
        fix = (
            f"install it: apt-get install {runner.package}"
            if "not installed" in exc.message
            else f"start its service ('{runner.program} version' says why it does not answer), "
            "or give this account access to it"
        )
        if not configured:
            fix += f"; not needed unless you run tasks with --runner {kind}"
        return [problem(f"{kind}: engine", exc.message, fix, configured)]
    who = "rootless" if found.rootless else "run by root"
    engine = f"{runner.program} {found.version}, {who}, cgroup v{found.cgroup_version}"
    rows = [ok(f"{kind}: engine", engine), _engine_seccomp_row(runner, found, configured)]
    # Limits the runner itself says it cannot hold whole here (rootless Podman on v1).
    caveats = runner.caveats(limits)
    for name in CGROUP_LIMITS:
        check = f"{kind}: {_LIMIT_NAMES[name]} limit"
        if found.limits[name] and not caveats:
            held = f"the container's cgroup holds it (cgroup v{found.cgroup_version})"
            rows.append(ok(check, held))
            continue
        if caveats and name != "cpu":
            said = "; ".join(caveats)
        else:
            what = "memory (swap included)" if name == "memory" else _LIMIT_NAMES[name]
            said = f"{runner.program} cannot set a {what} limit here"
        rows.append(problem(check, said, _ENGINE_DELEGATION, configured))
    return rows


def _engine_seccomp_row(
    runner: ContainerRunner, found: EngineFacts, configured: bool
) -> CheckResult:
    check = f"{runner.kind}: seccomp"
    if not found.seccomp:
        fix = f"use a {runner.program} built with seccomp support"
        return problem(check, f"{runner.program} runs containers without seccomp", fix, configured)
    try:
        runner.seccomp_profile()  # Podman: its default profile, narrowed by medval
    except SandboxError as exc:
        return problem(check, exc.message, "install golang-github-containers-common", configured)
    return ok(check, f"{runner.program} filters system calls")


def runner_rows(
    runners: dict[str, Runner], configured_kind: str, limits: Limits, machine: Machine
) -> list[CheckResult]:
    """Every runner's rows, the configured runner's first."""
    order = sorted(runners, key=lambda kind: kind != configured_kind)
    rows = []
    for kind in order:
        runner = runners[kind]
        configured = kind == configured_kind
        if isinstance(runner, BubblewrapRunner):
            rows += local_runner_rows(runner, limits, machine, configured)
        elif isinstance(runner, ContainerRunner):
            rows += engine_rows(runner, limits, configured)
    return rows
