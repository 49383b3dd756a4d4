"""The access-control matrix: every API route, as each kind of caller, with its answer.

A ``Door`` is one route (sometimes one of several targets of it: a blob that is a
draft's archive, a blob nothing uses yet...) with the status each kind of caller gets.
Requests that change something act on a target made fresh for each caller, so one
caller's answer never depends on another's. ``tests/server/test_access_matrix.py``
runs them against a real app and checks that every route of the app has a door.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
from fastapi.testclient import TestClient

from medval.core.api import PREFIX

from .conftest import PASSWORD, Api, User

ANON, ADMIN, BENCH, HOSPITAL, VENDOR, STRANGER, EXPIRED, REVOKED = (
    "anonymous",
    "admin",
    "benchmark owner",
    "data owner",
    "model owner",
    "unrelated user",
    "expired token",
    "revoked token",
)
CALLERS = (ANON, ADMIN, BENCH, HOSPITAL, VENDOR, STRANGER, EXPIRED, REVOKED)
LOGGED_IN = (ADMIN, BENCH, HOSPITAL, VENDOR, STRANGER)

# What a caller without a valid token is told, whatever the route.
UNAUTHENTICATED = {
    ANON: "not logged in: send 'Authorization: Bearer <token>'",
    EXPIRED: "token expired; log in again",
    REVOKED: "unknown or revoked token; log in again",
}


@dataclass
class Caller:
    kind: str
    client: TestClient
    headers: dict[str, str]
    user: User | None  # None: no valid token, so nothing can be made in its name

    def fresh_headers(self, api: Api) -> dict[str, str]:
        """A token of its own for this request (logging out must not end the others)."""
        if self.user is None:
            return self.headers
        token = api.login(self.user.name).json()["token"]
        return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    """The ``world`` fixture (an approved benchmark with a dataset, a model and a
    result) plus a draft cube, a pending benchmark and a blob nothing uses yet."""

    api: Api
    people: dict[str, User]
    benchmark: Any
    dataset: Any
    model: Any
    result: Any
    draft_cube: Any
    pending_benchmark: Any
    unused_blob: str
    _ids: Any = field(default_factory=count)

    @property
    def bench(self) -> User:
        return self.people[BENCH]

    @property
    def hospital(self) -> User:
        return self.people[HOSPITAL]

    @property
    def vendor(self) -> User:
        return self.people[VENDOR]

    def name(self) -> str:
        return f"door-{next(self._ids)}"

    def own_blob(self, caller: Caller) -> str:
        data = f"{self.name()} of {caller.kind}".encode()
        return self.api.blob(caller.user, data) if caller.user else hashlib.sha256(data).hexdigest()

    def fresh_draft_archive(self) -> str:
        """The archive of a new draft cube of the benchmark owner's."""
        draft = self.api.cube(self.bench, "model", stage="development")
        return str(draft["archive_hash"])

    def cube_body(self, archive: str) -> dict[str, Any]:
        return {"name": self.name(), "kind": "model", "archive_hash": archive}

    def benchmark_body(self) -> dict[str, Any]:
        keys = ("data_preparator_id", "reference_model_id", "evaluator_id", "demo_data_hash")
        return {"name": self.name(), **{k: self.benchmark[k] for k in keys}}

    def dataset_body(self, stage: str = "operation") -> dict[str, Any]:
        data_hash = hashlib.sha256(self.name().encode()).hexdigest()
        return {
            "name": self.name(),
            "data_preparator_id": self.benchmark["data_preparator_id"],
            "data_hash": data_hash,
            "statistics": {"n_cases": 100, "values": {}},
            "stage": stage,
        }

    def fresh_dataset(self, stage: str = "operation") -> Any:
        return self.hospital.ok("post", "/datasets", self.dataset_body(stage))

    def pending_association(self) -> Any:
        body = {"benchmark_id": self.benchmark["id"], "kind": "dataset"}
        return self.hospital.ok(
            "post", "/associations", body | {"entity_id": self.fresh_dataset()["id"]}
        )

    def approved_association(self) -> Any:
        association = self.pending_association()
        path = f"/associations/{association['id']}/decision"
        return self.bench.ok("put", path, {"status": "approved"})

    def fresh_user(self) -> User:
        return self.api.user(self.name())

    def fresh_benchmark(self, agreement: str | None = None) -> Any:
        """A new approved benchmark of the benchmark owner's (with ``agreement`` set)."""
        benchmark = self.api.benchmark(self.bench, approve_by=self.people[ADMIN])
        if agreement is not None:
            body = {"text": agreement, "sha256": hashlib.sha256(agreement.encode()).hexdigest()}
            self.bench.ok("put", f"/benchmarks/{benchmark['id']}/agreement", body)
        return benchmark

    def signed_result(self) -> Any:
        """A result of a newly approved model, signed by the data owner (who uploads it)."""
        body = self.api.result_body(self.benchmark, self.dataset, self.approved_model())
        return self.api.signed(self.hospital.name, body)

    def approved_model(self) -> Any:
        model = self.api.cube(self.vendor, "model")
        self.api.associate(self.vendor, self.benchmark, "model", model, self.bench)
        return model


Send = Callable[[World, Caller], httpx.Response]


@dataclass(frozen=True)
class Door:
    method: str
    path: str  # as the app's route table has it
    target: str  # which door of the route, when it has several
    send: Send
    expected: dict[str, int]
    messages: dict[str, str] = field(default_factory=dict)


def logged_in(everyone: int | None = None, **by_kind: int) -> dict[str, int]:
    """Every caller without a valid token gets 401; ``by_kind`` (admin=, bench=,
    hospital=, vendor=, stranger=) overrides ``everyone`` for the logged-in callers."""
    names = {"admin": ADMIN, "bench": BENCH, "hospital": HOSPITAL, "vendor": VENDOR}
    names["stranger"] = STRANGER
    statuses = {kind: 401 for kind in UNAUTHENTICATED}
    for kind in LOGGED_IN:
        statuses[kind] = everyone if everyone is not None else 0
    for name, status in by_kind.items():
        statuses[names[name]] = status
    assert all(statuses.values()), "every logged-in caller needs a status"
    return statuses


def _call(method: str, path: str, caller: Caller, **kw: Any) -> httpx.Response:
    return caller.client.request(method, PREFIX + path, headers=caller.headers, **kw)


def get(path: Callable[[World], str]) -> Send:
    return lambda w, c: _call("GET", path(w), c)


def _doors() -> list[Door]:
    bench_and_admin = {"admin": 200, "bench": 200}
    return [
        Door("GET", "/api/v1/health", "", get(lambda w: "/health"), dict.fromkeys(CALLERS, 200)),
        Door(
            "POST",
            "/api/v1/auth/token",
            "the caller's bearer token plays no part",
            lambda w, c: _call(
                "POST", "/auth/token", c, json={"username": "stranger", "password": PASSWORD}
            ),
            dict.fromkeys(CALLERS, 200),
        ),
        Door(
            "DELETE",
            "/api/v1/auth/token",
            "",
            lambda w, c: c.client.delete(PREFIX + "/auth/token", headers=c.fresh_headers(w.api)),
            logged_in(204),
        ),
        Door("GET", "/api/v1/users/me", "", get(lambda w: "/users/me"), logged_in(200)),
        Door("GET", "/api/v1/users", "", get(lambda w: "/users"), logged_in(403, admin=200)),
        Door(
            "POST",
            "/api/v1/users",
            "",
            lambda w, c: _call(
                "POST", "/users", c, json={"username": w.name(), "password": PASSWORD}
            ),
            logged_in(403, admin=201),
        ),
        Door(
            "PUT",
            "/api/v1/blobs/{sha256}",
            "",
            lambda w, c: _call(
                "PUT",
                f"/blobs/{hashlib.sha256(b'x' + c.kind.encode()).hexdigest()}",
                c,
                content=b"x" + c.kind.encode(),
            ),
            logged_in(201),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}/upload",
            "",
            get(lambda w: f"/blobs/{w.unused_blob}/upload"),
            logged_in(200),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}",
            "a draft cube's archive",
            get(lambda w: f"/blobs/{w.draft_cube['archive_hash']}"),
            logged_in(404, **bench_and_admin),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}",
            "a blob nothing uses yet (the data owner's)",
            get(lambda w: f"/blobs/{w.unused_blob}"),
            logged_in(404, admin=200, hospital=200),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}",
            "a released cube's archive",
            get(lambda w: f"/blobs/{w.model['archive_hash']}"),
            logged_in(200),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}",
            "the demo data of an approved benchmark",
            get(lambda w: f"/blobs/{w.benchmark['demo_data_hash']}"),
            logged_in(200),
        ),
        Door(
            "GET",
            "/api/v1/blobs/{sha256}",
            "the demo data of a pending benchmark",
            get(lambda w: f"/blobs/{w.pending_benchmark['demo_data_hash']}"),
            logged_in(404, **bench_and_admin),
        ),
    ]


def _all_doors() -> list[Door]:
    # Imported here: those modules build on this one's doors and callers.
    from .association_doors import association_doors
    from .catalogue_doors import catalogue_doors
    from .committee_doors import committee_doors
    from .model_key_doors import model_key_doors
    from .page_doors import page_doors
    from .phase_doors import phase_doors
    from .preparation_report_doors import preparation_report_doors
    from .quota_doors import quota_doors
    from .training_doors import training_doors
    from .trust_doors import trust_doors

    return [
        *_doors(),
        *catalogue_doors(),
        *association_doors(),
        # Before the trust doors: they give the data owner a new signing key.
        *phase_doors(),
        *trust_doors(),
        *model_key_doors(),
        *preparation_report_doors(),
        *committee_doors(),
        *training_doors(),
        *page_doors(),
        *quota_doors(),
    ]


DOORS = _all_doors()
