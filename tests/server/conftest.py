"""API test fixtures: the app on a real migrated SQLite, a movable clock, and factories."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from tests.migrated import migrate

from medval.core.api import PREFIX
from medval.core.result_schemas import ResultContent
from medval.server.admin import create_admin
from medval.server.app import create_app
from medval.server.settings import ServerSettings
from medval.trust.keys import SigningKey
from medval.trust.signed_result import sign_result

PASSWORD = "correct-horse-battery"

# Seconds a test's HTTP client waits for a live server. httpx's default (5 s) is met by
# an idle machine many times over, but not always by one running every lane of
# ``make test`` at once (two cores, docker builds writing images): a clean-clone CI run
# saw one request to a PostgreSQL-backed server stall past it.
HTTP_TIMEOUT = 60.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class User:
    """A logged-in account: its name, id and a client sending its token."""

    name: str
    id: int
    http: Api

    @property
    def headers(self) -> dict[str, str]:
        return self.http.tokens[self.name]

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.client.get(PREFIX + path, headers=self.headers, **kw)

    def post(self, path: str, json: Any) -> httpx.Response:
        """POST as this user; a result without a signature is signed with the user's key
        first, as the client does (tests of signatures send their own)."""
        if path == "/results" and "signature" not in json:
            json = self.http.signed(self.name, json)
        return self.http.client.post(PREFIX + path, headers=self.headers, json=json)

    def put(self, path: str, json: Any = None, content: bytes | None = None) -> httpx.Response:
        return self.http.client.put(PREFIX + path, headers=self.headers, json=json, content=content)

    def patch(self, path: str, json: Any) -> httpx.Response:
        return self.http.client.patch(PREFIX + path, headers=self.headers, json=json)

    def ok(self, method: str, path: str, json: Any = None) -> Any:
        response = getattr(self, method)(path, json) if json is not None else self.get(path)
        assert response.is_success, response.text
        return response.json()


@dataclass
class Api:
    """Factories for test data, all going through the HTTP API."""

    client: httpx.Client  # a TestClient, or a client of a live server
    settings: ServerSettings
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each user's signing key, registered when the user logs in here.
    keys: dict[str, SigningKey] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=count)

    def signed(self, name: str, body: dict[str, Any], key: SigningKey | None = None) -> Any:
        """``body`` signed by ``name``'s key (or ``key``). A body that is not a valid
        result gets a well-formed signature that signs nothing, so that only its content
        is refused."""
        key = key or self.keys[name]
        try:
            content = ResultContent.model_validate(body)
        except ValidationError:
            return body | {"key_id": key.key_id, "signature": "A" * 86 + "=="}
        return sign_result(content, key).model_dump(mode="json")

    def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post(
            PREFIX + "/auth/token", json={"username": name, "password": password}
        )

    def _as(self, name: str) -> User:
        response = self.login(name)
        assert response.status_code == 200, response.text
        self.tokens[name] = {"Authorization": f"Bearer {response.json()['token']}"}
        me = self.client.get(PREFIX + "/users/me", headers=self.tokens[name]).json()
        if name not in self.keys:
            self.keys[name] = SigningKey.generate()
            registered = self.client.post(
                PREFIX + "/users/me/signing-keys",
                headers=self.tokens[name],
                json={"public_key": self.keys[name].public_key},
            )
            assert registered.status_code == 201, registered.text
        return User(name, me["id"], self)

    def admin(self, name: str = "admin") -> User:
        create_admin(self.settings, name, PASSWORD)
        return self._as(name)

    def user(self, name: str) -> User:
        if "root" not in self.tokens:
            self.admin("root")
        root = User("root", 0, self)
        root.ok("post", "/users", {"username": name, "password": PASSWORD})
        return self._as(name)

    def blob(self, user: User, data: bytes | None = None) -> str:
        data = data if data is not None else f"blob {next(self._ids)}".encode()
        sha = hashlib.sha256(data).hexdigest()
        assert user.put(f"/blobs/{sha}", content=data).status_code == 201
        return sha

    def cube(self, owner: User, kind: str, stage: str = "operation", name: str = "") -> Any:
        body = {
            "name": name or f"{kind}-{next(self._ids)}",
            "kind": kind,
            "archive_hash": self.blob(owner),
            "stage": stage,
        }
        return owner.ok("post", "/cubes", body)

    def benchmark(
        self,
        owner: User,
        approve_by: User | None = None,
        policy: str = "participants",
        stage: str = "operation",
        **disclosure: Any,
    ) -> Any:
        """A benchmark with fresh cubes; approved when ``approve_by`` (an admin) is given.
        ``disclosure``: min_cell_count, min_sites (the defaults otherwise), and any other
        field of the request (its declared ``metrics``)."""
        prep = self.cube(owner, "data_preparator")
        model = self.cube(owner, "model")
        evaluator = self.cube(owner, "evaluator")
        body = {
            "name": f"bench-{next(self._ids)}",
            "data_preparator_id": prep["id"],
            "reference_model_id": model["id"],
            "evaluator_id": evaluator["id"],
            "demo_data_hash": self.blob(owner),
            "release_policy": policy,
            "stage": stage,
            **disclosure,
        }
        benchmark = owner.ok("post", "/benchmarks", body)
        if approve_by is not None:
            path = f"/benchmarks/{benchmark['id']}/approval"
            benchmark = approve_by.ok("put", path, {"status": "approved"})
        return benchmark

    def dataset(self, owner: User, benchmark: Any, stage: str = "operation") -> Any:
        body = {
            "name": f"site-{next(self._ids)}",
            "data_preparator_id": benchmark["data_preparator_id"],
            "data_hash": hashlib.sha256(f"data {next(self._ids)}".encode()).hexdigest(),
            "statistics": {"n_cases": 100, "values": {"age": {"mean": 60.0}}},
            "stage": stage,
        }
        return owner.ok("post", "/datasets", body)

    def associate(
        self, requester: User, benchmark: Any, kind: str, entity: Any, decide_by: User | None
    ) -> Any:
        """Request an association; approve it when ``decide_by`` is given."""
        body = {"benchmark_id": benchmark["id"], "kind": kind, "entity_id": entity["id"]}
        association = requester.ok("post", "/associations", body)
        if decide_by is not None:
            path = f"/associations/{association['id']}/decision"
            association = decide_by.ok("put", path, {"status": "approved"})
        return association

    def result_body(
        self, benchmark: Any, dataset: Any, model: Any, auroc: float = 0.8, **wrong: str
    ) -> dict[str, Any]:
        """A result whose provenance matches the registered hashes unless overridden."""
        cube = self.client.get(
            f"{PREFIX}/cubes/{benchmark['data_preparator_id']}", headers=self.tokens["root"]
        ).json()
        evaluator = self.client.get(
            f"{PREFIX}/cubes/{benchmark['evaluator_id']}", headers=self.tokens["root"]
        ).json()
        provenance = {
            "dataset_hash": dataset["data_hash"],
            "data_preparator_hash": cube["archive_hash"],
            "model_hash": model["archive_hash"],
            "evaluator_hash": evaluator["archive_hash"],
        } | wrong
        return {
            "benchmark_id": benchmark["id"],
            "dataset_id": dataset["id"],
            "model_id": model["id"],
            # Large counts: an auroc of 0.8 over 30 positives would be 24 of 30, a
            # proportion that leaves 6 (a small cell; core.small_cells).
            "document": {
                "n_cases": 1000,
                "n_positive": 300,
                "metrics": {
                    "auroc": {"value": auroc, "lower": auroc - 0.05, "upper": auroc + 0.05}
                },
            },
            "provenance": provenance,
        }


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    return migrated_settings(tmp_path)


def migrated_settings(tmp_path: Path) -> ServerSettings:
    settings = ServerSettings(
        data_dir=tmp_path / "server",
        password_hash_profile="test_only_cheapest",
        max_blob_bytes=1024,
    )
    migrate(settings)
    return settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(settings: ServerSettings, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(settings, clock=clock)) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient, settings: ServerSettings) -> Api:
    return Api(client, settings)


@pytest.fixture
def world(api: Api) -> dict[str, Any]:
    return make_world(api)


def make_world(api: Api) -> dict[str, Any]:
    """An approved benchmark with one approved dataset and one approved extra model:

    admin (root), bench (benchmark owner), hospital (data owner), vendor (model owner),
    stranger (no part in it).

    Its benchmark releases results from one site on (``min_sites`` 1): the tests using it
    are about other rules (tests/server/test_api_release.py is about that one).
    """
    people = {name: api.user(name) for name in ("bench", "hospital", "vendor", "stranger")}
    root = User("root", 1, api)
    benchmark = api.benchmark(people["bench"], approve_by=root, min_sites=1)
    dataset = api.dataset(people["hospital"], benchmark)
    api.associate(people["hospital"], benchmark, "dataset", dataset, people["bench"])
    model = api.cube(people["vendor"], "model")
    api.associate(people["vendor"], benchmark, "model", model, people["bench"])
    return {"root": root, **people, "benchmark": benchmark, "dataset": dataset, "model": model}
