"""Every exit status ``medval`` ends with, and what each means: written once, here.

Each error class (``core.errors``) takes its exit status from this table, the CLI ends
with the ones no error class carries (done, interrupted, internal error), and the
reference (``docs/cli.md``) and the README's table are made from :data:`MEANINGS`;
``tests/docs`` fails when either differs or when a code in use is missing here.
Imports only the standard library.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    DONE = 0
    FAILED = 1
    INVALID_INPUT = 2
    NOT_ALLOWED = 3
    NOT_FOUND = 4
    CONFLICT = 5
    HASH_MISMATCH = 6
    SERVER_UNAVAILABLE = 7
    TASK_FAILED = 8
    ENGINE_FAILED = 9
    CANCELLED = 10
    POLICY_REFUSED = 11
    SIGNATURE_INVALID = 12
    RATE_LIMITED = 13
    TRAINING_FAILED = 14
    SIMULATION_INCOMPLETE = 15
    KEY_RELEASE_REFUSED = 16
    INTERNAL_ERROR = 70  # EX_SOFTWARE in BSD's sysexits.h
    INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C (128 + SIGINT)


MEANINGS: dict[ExitCode, str] = {
    ExitCode.DONE: "done",
    ExitCode.FAILED: (
        "failed, with a reason the line says (an error with no code of its own, or a "
        "prompt aborted)"
    ),
    ExitCode.INVALID_INPUT: (
        "invalid input (a bad value, a missing path, a folder that is not a cube, a file "
        "too large, a usage error such as an unknown option)"
    ),
    ExitCode.NOT_ALLOWED: "not logged in, wrong password, expired session, or not allowed",
    ExitCode.NOT_FOUND: "not found",
    ExitCode.CONFLICT: "conflict, or a state change that is not allowed",
    ExitCode.HASH_MISMATCH: "a content hash does not match the registered one",
    ExitCode.SERVER_UNAVAILABLE: "the server cannot be reached",
    ExitCode.TASK_FAILED: (
        "a cube task failed, timed out or ran out of memory; or `medval doctor`: the "
        "configured runner cannot run a task here with all its limits (a `fail` row)"
    ),
    ExitCode.ENGINE_FAILED: (
        "the container engine could not start the container (this machine's engine or "
        "setup, not the cube; the engine's own reason follows)"
    ),
    ExitCode.CANCELLED: ("cancelled at a confirmation (or no terminal to ask on and no `--yes`)"),
    ExitCode.POLICY_REFUSED: (
        "refused by a dataset's data policy (the message names the clause; see "
        "Data policies in the README)"
    ),
    ExitCode.SIGNATURE_INVALID: (
        "a signature does not verify (a result, or a record in a bundle: `medval verify`)"
    ),
    ExitCode.RATE_LIMITED: ("too many failed logins: try again after the time the message says"),
    ExitCode.TRAINING_FAILED: (
        "federated training could not start or did not finish (a Flower process that did "
        "not come up or exited, a port in use, a run that failed or was stopped; the "
        "message names the step and Flower's reason)"
    ),
    ExitCode.SIMULATION_INCOMPLETE: (
        "`medval simulate`: the leaderboard does not show every site for every model"
    ),
    ExitCode.KEY_RELEASE_REFUSED: (
        "a private model's key is not released to this machine (`key_release_refused`)"
    ),
    ExitCode.INTERNAL_ERROR: (
        "an internal error (please report it; `MEDVAL_DEBUG=1` shows the traceback)"
    ),
    ExitCode.INTERRUPTED: (
        "interrupted (Ctrl-C); finished steps are kept, run the command again to resume"
    ),
}


def exit_codes_table() -> str:
    """The Markdown table of every exit status, as the README and docs/cli.md show it."""
    rows = ["| code | meaning |", "| --- | --- |"]
    rows += [f"| {int(code)} | {MEANINGS[code]} |" for code in ExitCode]
    return "\n".join(rows) + "\n"
