"""Errors that a user can cause, each with a stable code.

The server maps a code to an HTTP status and sends ``{"error": {"code", "message"}}``;
the client turns that body back into the same exception class, and the CLI prints
the message on one line and exits with the code's exit status.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from medval.core.exit_codes import ExitCode


class MedvalError(Exception):
    """Base of every error a user can cause. Never shown as a traceback."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400
    exit_code: ClassVar[int] = ExitCode.FAILED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidInput(MedvalError):
    """The request or a file is malformed or violates a rule."""

    code = "invalid_input"
    http_status = 422
    exit_code = ExitCode.INVALID_INPUT


class NotAuthenticated(MedvalError):
    """No credentials, wrong credentials or an expired token."""

    code = "not_authenticated"
    http_status = 401
    exit_code = ExitCode.NOT_ALLOWED


class PermissionDenied(MedvalError):
    """Authenticated, but this account may not do that."""

    code = "permission_denied"
    http_status = 403
    exit_code = ExitCode.NOT_ALLOWED


class NotFound(MedvalError):
    """An id or name that does not exist (or is not visible to the caller)."""

    code = "not_found"
    http_status = 404
    exit_code = ExitCode.NOT_FOUND


class Conflict(MedvalError):
    """The thing already exists (a duplicate name, a result already uploaded)."""

    code = "conflict"
    http_status = 409
    exit_code = ExitCode.CONFLICT


class InvalidTransition(MedvalError):
    """An entity cannot move from its current state to the one asked for."""

    code = "invalid_transition"
    http_status = 409
    exit_code = ExitCode.CONFLICT


class HashMismatch(MedvalError):
    """A file's content does not match the hash registered for it."""

    code = "hash_mismatch"
    http_status = 422
    exit_code = ExitCode.HASH_MISMATCH


class TooLarge(MedvalError):
    """An upload is larger than the server accepts."""

    code = "too_large"
    http_status = 413
    exit_code = ExitCode.INVALID_INPUT


class RateLimited(MedvalError):
    """Too many attempts (failed logins) in a while; ``retry_after_seconds`` says when."""

    code = "rate_limited"
    http_status = 429
    exit_code = ExitCode.RATE_LIMITED

    def __init__(self, message: str, retry_after_seconds: int = 0) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServerUnavailable(MedvalError):
    """The server could not be reached or answered with something unexpected."""

    code = "server_unavailable"
    http_status = 503
    exit_code = ExitCode.SERVER_UNAVAILABLE


class SandboxError(MedvalError):
    """A cube task could not be run, failed, timed out or ran out of memory.

    ``verdict``, when given, is the same event in medval's own words only: no word the
    cube printed or chose (its stderr, a file name it made) and no host path. It is what
    a failed execution records and, once the data owner approves, sends.
    """

    code = "sandbox_error"
    http_status = 500
    exit_code = ExitCode.TASK_FAILED

    def __init__(self, message: str, verdict: str | None = None) -> None:
        super().__init__(message)
        self.verdict = verdict


class EngineError(SandboxError):
    """The container engine (Docker, Podman) could not create or start the container:
    the site's problem, not the cube's. The message keeps the engine's whole reason."""

    code = "engine_error"
    exit_code = ExitCode.ENGINE_FAILED


class PolicyRefused(MedvalError):
    """A data owner's policy on a dataset's association refuses this execution or
    result; the message names the clause (``medval.trust.data_policy``)."""

    code = "policy_refused"
    http_status = 403
    exit_code = ExitCode.POLICY_REFUSED


class SignatureInvalid(MedvalError):
    """A result's signature does not verify: missing, made with a key that is not the
    uploader's current one, or not over this payload (``medval.trust``)."""

    code = "signature_invalid"
    http_status = 422
    exit_code = ExitCode.SIGNATURE_INVALID


class KeyReleaseRefused(MedvalError):
    """A model's key is not released to this site: the site is not approved, or the
    attestation evidence it sent is refused (``medval.trust.key_release``,
    ``medval.trust.attestation``). The message names the one check that failed."""

    code = "key_release_refused"
    http_status = 403
    exit_code = ExitCode.KEY_RELEASE_REFUSED


class TrainingError(MedvalError):
    """Federated training could not start or did not finish: a Flower process that did not
    come up or exited, a port in use, a run that failed or was stopped
    (``medval.training``). The message names the step and Flower's own reason."""

    code = "training_error"
    http_status = 500
    exit_code = ExitCode.TRAINING_FAILED


class Cancelled(MedvalError):
    """The user declined a confirmation. Nothing was sent."""

    code = "cancelled"
    http_status = 400
    exit_code = ExitCode.CANCELLED


ERRORS_BY_CODE: dict[str, type[MedvalError]] = {
    cls.code: cls
    for cls in (
        MedvalError,
        InvalidInput,
        NotAuthenticated,
        PermissionDenied,
        NotFound,
        Conflict,
        InvalidTransition,
        HashMismatch,
        TooLarge,
        RateLimited,
        ServerUnavailable,
        SandboxError,
        EngineError,
        PolicyRefused,
        SignatureInvalid,
        KeyReleaseRefused,
        TrainingError,
        Cancelled,
    )
}


def describe_problems(problems: Sequence[Mapping[str, Any]], default: str = "invalid") -> str:
    """One line for a list of validation problems (pydantic's ``errors()``): the first,
    with where it is, and how many more there are."""
    if not problems:
        return default
    first = problems[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', default)}" if where else str(first.get("msg", default))
    if len(problems) > 1:
        message += f" (and {len(problems) - 1} more)"
    return message


def error_from_code(code: str, message: str) -> MedvalError:
    """Rebuild the typed exception a server reported; unknown codes become MedvalError."""
    return ERRORS_BY_CODE.get(code, MedvalError)(message)
