"""The export bundle: results, their signatures and the public keys that made them,
checked with no server.

A bundle is one JSON file (``Bundle``): the results of one benchmark that the exporting
account may see, as the API returned them (``ResultPublic``, each with its ``key_id`` and
``signature``), the public keys that signed them with their owners (``SigningKeyPublic``,
retired ones too), and ``audit``: the server's audit-trail entries about these results
(``AuditEntryPublic``, a slice of the chain, so each entry is checked on its own).

``verify_bundle`` trusts nothing in the file: each key must hash to its id, and each
result must be signed, by a key in the bundle, of its uploader, not retired before the
upload, over exactly the result's canonical form (``signed_result``); each audit entry
must hash to its ``entry_hash``, and a result the entries speak of must be, byte for byte,
what the last of them recorded (its ``after_hash``). Every record that does not verify is
named, with why, in one line. Imports only ``medval.core``,
``medval.trust`` and pydantic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from medval.core.errors import InvalidInput, describe_problems
from medval.core.result_schemas import ResultPublic
from medval.core.schemas import AuditEntryPublic, SigningKeyPublic
from medval.core.syntax_errors import json_problem
from medval.trust.audit_chain import public_hash, recomputed_hash
from medval.trust.keys import key_id as key_id_of
from medval.trust.signed_result import signature_verifies

BUNDLE_FORMAT: Literal["medval.bundle/v1"] = "medval.bundle/v1"
MAX_BUNDLE_BYTES = 256 << 20  # a bundle is read whole; far above any benchmark's results

__all__ = ["BUNDLE_FORMAT", "Bundle", "Problem", "Verification", "verify_bundle"]


class Bundle(BaseModel):
    """What ``medval results export`` writes and ``medval verify`` reads."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["medval.bundle/v1"] = BUNDLE_FORMAT
    server: str
    benchmark_id: int
    benchmark: str
    exported_by: str
    exported_at: datetime
    results: list[ResultPublic]
    keys: list[SigningKeyPublic]
    # The server's audit-trail entries about these results (a slice of its chain).
    audit: list[AuditEntryPublic] = Field(default_factory=list)


class _Loose(BaseModel):
    """A bundle read record by record, so one broken record does not hide the others."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["medval.bundle/v1"]
    server: str
    benchmark_id: int
    benchmark: str
    exported_by: str
    exported_at: datetime
    results: list[Any]
    keys: list[Any]
    audit: list[Any] = Field(default_factory=list)


@dataclass(frozen=True)
class Problem:
    """A record that does not verify, and why."""

    record: str
    reason: str

    @property
    def line(self) -> str:
        return f"{self.record}: {self.reason}"


@dataclass(frozen=True)
class Verification:
    benchmark: str
    results: int
    keys: int
    audit: int
    problems: list[Problem] = field(default_factory=list)

    def _failed(self, kind: str) -> int:
        return len({p.record for p in self.problems if p.record.startswith(kind)})

    @property
    def summary(self) -> str:
        """One line: how many results, keys and audit entries verify."""
        bad_audit = self._failed("audit")
        if self.audit == 0:
            audit = "no audit entries"
        elif bad_audit:
            audit = f"{bad_audit} of {self.audit} audit entries do not verify"
        else:
            audit = f"all {self.audit} audit entries verify"
        if not self.problems:
            return f"all {self.results} results and {self.keys} keys verify; {audit}"
        return (
            f"{self._failed('result')} of {self.results} results and {self._failed('key')} "
            f"of {self.keys} keys do not verify; {audit}"
        )


def _short(key_id: str) -> str:
    return key_id[:16]


def _result_name(result: ResultPublic) -> str:
    return f"result {result.id} (model {result.model} on dataset {result.dataset})"


def _entry_name(kind: str, number: int, raw: Any) -> str:
    ident = raw.get("id" if kind == "result" else "key_id") if isinstance(raw, dict) else None
    return f"{kind} entry {number}" + (f" ({kind} {ident})" if ident is not None else "")


def _audit(loose: _Loose, problems: list[Problem]) -> dict[str, AuditEntryPublic]:
    """Each audit entry checked on its own; the last good entry about each result."""
    last: dict[str, AuditEntryPublic] = {}
    for number, raw in enumerate(loose.audit, start=1):
        try:
            entry = AuditEntryPublic.model_validate(raw)
        except ValidationError as exc:
            reason = f"not a valid audit entry: {describe_problems(exc.errors())}"
            problems.append(Problem(f"audit entry {number}", reason))
            continue
        if recomputed_hash(entry) != entry.entry_hash:
            problems.append(
                Problem(
                    f"audit entry {number} (seq {entry.seq})",
                    "its hash does not match its content (changed after it was logged)",
                )
            )
            continue
        if entry.entity_kind == "result":
            earlier = last.get(entry.entity_id)
            if earlier is None or entry.seq > earlier.seq:
                last[entry.entity_id] = entry
    return last


def _audit_problem(result: ResultPublic, last: dict[str, AuditEntryPublic]) -> str | None:
    entry = last.get(str(result.id))
    if entry is None or entry.after_hash == public_hash(result):
        return None
    return (
        f"differs from what the audit trail recorded at its last change (entry seq "
        f"{entry.seq}, {entry.action} by {entry.actor})"
    )


def read_bundle(text: str | bytes) -> _Loose:
    """The bundle's frame; anything that is not a bundle at all is one line."""
    try:
        return _Loose.model_validate(json.loads(text))
    except RecursionError as exc:  # nested deeper than the parser's stack
        raise InvalidInput(f"not a medval bundle ({BUNDLE_FORMAT}): nested too deep") from exc
    except ValueError as exc:
        problems = exc.errors() if isinstance(exc, ValidationError) else []
        detail = describe_problems(problems, "not JSON") if problems else "not JSON"
        if isinstance(exc, json.JSONDecodeError):
            detail = f"not JSON: {json_problem(exc)}"
        raise InvalidInput(f"not a medval bundle ({BUNDLE_FORMAT}): {detail}") from exc


def _keys(loose: _Loose, problems: list[Problem]) -> tuple[dict[str, SigningKeyPublic], set[str]]:
    """The keys that hash to their id, and the ids of the entries that do not."""
    good: dict[str, SigningKeyPublic] = {}
    bad: set[str] = set()
    for number, raw in enumerate(loose.keys, start=1):
        try:
            key = SigningKeyPublic.model_validate(raw)
        except ValidationError as exc:
            problems.append(
                Problem(
                    _entry_name("key", number, raw),
                    f"not a valid key: {describe_problems(exc.errors())}",
                )
            )
            if isinstance(raw, dict) and isinstance(raw.get("key_id"), str):
                bad.add(raw["key_id"])
            continue
        try:
            matches = key_id_of(key.public_key) == key.key_id
        except InvalidInput:
            matches = False
        if not matches:
            problems.append(
                Problem(
                    f"key {_short(key.key_id)} of {key.owner}",
                    "its public key is not an Ed25519 key with this id",
                )
            )
            bad.add(key.key_id)
            continue
        good[key.key_id] = key
    return good, bad


def _result_problem(
    result: ResultPublic, benchmark_id: int, keys: dict[str, SigningKeyPublic], bad: set[str]
) -> str | None:
    """Why one result does not verify, or None."""
    if result.benchmark_id != benchmark_id:
        return f"belongs to benchmark {result.benchmark_id}, not to this bundle's {benchmark_id}"
    if result.key_id is None or result.signature is None:
        return "not signed"
    key = keys.get(result.key_id)
    if key is None:
        held = (
            "whose entry in the bundle is not valid"
            if result.key_id in bad
            else ("which the bundle does not hold")
        )
        return f"signed by key {_short(result.key_id)}, {held}"
    if key.owner != result.owner:
        return (
            f"signed by key {_short(key.key_id)} of {key.owner}, not of its uploader {result.owner}"
        )
    if result.created_at < key.created_at:
        return f"uploaded before key {_short(key.key_id)} was registered"
    if key.retired_at is not None and key.retired_at < result.created_at:
        return f"uploaded after key {_short(key.key_id)} was retired"
    if not signature_verifies(result, key.public_key):
        return (
            f"the signature by key {_short(key.key_id)} does not match the result's "
            "content (changed after it was signed)"
        )
    return None


def verify_bundle(text: str | bytes) -> Verification:
    """Check every key and every result of a bundle; names each one that fails."""
    loose = read_bundle(text)
    problems: list[Problem] = []
    keys, bad = _keys(loose, problems)
    audited = _audit(loose, problems)
    for number, raw in enumerate(loose.results, start=1):
        try:
            result = ResultPublic.model_validate(raw)
        except ValidationError as exc:
            problems.append(
                Problem(
                    _entry_name("result", number, raw),
                    f"not a valid result: {describe_problems(exc.errors())}",
                )
            )
            continue
        reason = _result_problem(result, loose.benchmark_id, keys, bad)
        if reason is not None:
            problems.append(Problem(_result_name(result), reason))
        reason = _audit_problem(result, audited)
        if reason is not None:
            problems.append(Problem(_result_name(result), reason))
    return Verification(
        benchmark=loose.benchmark,
        results=len(loose.results),
        keys=len(loose.keys),
        audit=len(loose.audit),
        problems=problems,
    )
