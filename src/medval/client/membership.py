"""A benchmark's membership rules from the client's side: its agreement, read from a
file and accepted by hash, and its auto-approval rule. Every face calls these."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from medval.client.http import MedvalClient
from medval.core.errors import InvalidInput, InvalidTransition, describe_problems
from medval.core.membership_schemas import (
    AgreementAcceptancePublic,
    AutoApprovalRule,
    MembershipAgreement,
    agreement_sha256,
)
from medval.core.schemas import BenchmarkPublic
from medval.core.states import AutoApprovalMode


def read_agreement(path: Path) -> MembershipAgreement:
    """A membership agreement from a UTF-8 text file, pinned by the hash of its text."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"agreement file {path} does not exist") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"agreement file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read agreement file {path}: {exc.strerror}") from None
    try:
        return MembershipAgreement(text=text, sha256=agreement_sha256(text))
    except ValidationError as exc:
        raise InvalidInput(f"agreement file {path}: {describe_problems(exc.errors())}") from None


def auto_approval_rule(mode: AutoApprovalMode, users: str | None) -> AutoApprovalRule:
    """The rule from the command line: a mode, and for ``allowlist`` names ``a,b,...``."""
    names = [name.strip() for name in (users or "").split(",") if name.strip()]
    try:
        return AutoApprovalRule(mode=mode, users=names)
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None


def agreement_to_accept(client: MedvalClient, benchmark_id: int) -> MembershipAgreement:
    """The agreement the benchmark requires now (to show before it is accepted)."""
    benchmark = client.benchmark(benchmark_id)
    if benchmark.agreement is None:
        raise InvalidTransition(f"benchmark {benchmark.name} requires no agreement")
    return benchmark.agreement


def accept_agreement(
    client: MedvalClient, benchmark_id: int, shown: MembershipAgreement
) -> AgreementAcceptancePublic:
    """Accept exactly the agreement that was shown: the server refuses it if the
    benchmark's agreement changed since (another hash)."""
    return client.accept_agreement(benchmark_id, shown.sha256)


def set_agreement(client: MedvalClient, benchmark_id: int, path: Path) -> BenchmarkPublic:
    return client.set_benchmark_agreement(benchmark_id, read_agreement(path))
