"""Signed results and bundles built here, with no server: what the verifier is given."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.core.result_schemas import ResultContent, ResultPublic
from medval.core.schemas import SigningKeyPublic
from medval.trust.bundle import Bundle
from medval.trust.keys import SigningKey
from medval.trust.signed_result import sign_result

NOW = datetime(2024, 5, 1, 9, 0, 0, 123456, tzinfo=UTC)
H = "a" * 64


def content(auroc: float = 0.8, dataset_id: int = 1, **changes: Any) -> ResultContent:
    fields: dict[str, Any] = {
        "benchmark_id": 7,
        "dataset_id": dataset_id,
        "model_id": 3,
        "document": ResultDocument(
            n_cases=120,
            n_positive=30,
            metrics={"auroc": MetricValue(value=auroc, lower=auroc - 0.05, upper=auroc + 0.05)},
        ),
        "provenance": Provenance(
            dataset_hash="b" * 64,
            data_preparator_hash=H,
            model_hash="c" * 64,
            evaluator_hash="d" * 64,
            model_image="sha256:" + "e" * 64,
        ),
        "executed_at": NOW - timedelta(minutes=5),
    }
    return ResultContent(**(fields | changes))


def published(
    key: SigningKey, result_id: int = 1, owner: str = "hospital", **changes: Any
) -> ResultPublic:
    """A result as the server returns it, signed by ``key``."""
    signed = sign_result(content(**changes), key)
    return ResultPublic(
        id=result_id,
        dataset=f"site-{signed.dataset_id}",
        model="logistic",
        owner=owner,
        created_at=NOW,
        **signed.model_dump(),
    )


def key_entry(
    key: SigningKey, owner: str = "hospital", retired_at: datetime | None = None
) -> SigningKeyPublic:
    return SigningKeyPublic(
        key_id=key.key_id,
        public_key=key.public_key,
        owner_id=2,
        owner=owner,
        created_at=NOW - timedelta(days=1),
        retired_at=retired_at,
    )


def bundle(results: list[ResultPublic], keys: list[SigningKeyPublic]) -> dict[str, Any]:
    """A bundle as its file holds it (plain JSON values, for tests to edit)."""
    made = Bundle(
        server="http://medval.test",
        benchmark_id=7,
        benchmark="breast",
        exported_by="regulator",
        exported_at=NOW + timedelta(days=1),
        results=results,
        keys=keys,
    )
    return made.model_dump(mode="json")
