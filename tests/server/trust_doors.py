"""The access matrix's doors of accounts, signing keys, the audit log, membership rules
and data policies (see ``access_doors``)."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from medval.core.api import PREFIX

from .access_doors import (
    Caller,
    Door,
    Send,
    World,
    _call,
    get,
    logged_in,
)

AGREEMENT = "Members keep their data at home.\n"


def trust_doors() -> list[Door]:
    """Accounts, signing keys, the audit log, membership rules and data policies."""
    bench_and_admin = {"admin": 200, "bench": 200}
    admin_only = {"admin": 200}

    def on_fresh_user(method: str, suffix: str, body: Any = None) -> Send:
        return lambda w, c: _call(method, f"/users/{w.fresh_user().id}{suffix}", c, json=body)

    def new_key(w: World, c: Caller) -> httpx.Response:
        from medval.trust.keys import SigningKey

        body = {"public_key": SigningKey.generate().public_key}
        return _call("POST", "/users/me/signing-keys", c, json=body)

    def accept(w: World, c: Caller) -> httpx.Response:
        benchmark = w.fresh_benchmark(AGREEMENT)
        body = {"sha256": hashlib.sha256(AGREEMENT.encode()).hexdigest()}
        return _call("POST", f"/benchmarks/{benchmark['id']}/agreement/acceptances", c, json=body)

    def set_agreement(w: World, c: Caller) -> httpx.Response:
        body = {"text": AGREEMENT, "sha256": hashlib.sha256(AGREEMENT.encode()).hexdigest()}
        path = f"/benchmarks/{w.fresh_benchmark()['id']}/agreement"
        return _call("PUT", path, c, json=body)

    def set_auto_approval(w: World, c: Caller) -> httpx.Response:
        path = f"/benchmarks/{w.fresh_benchmark()['id']}/auto-approval"
        return _call("PUT", path, c, json={"mode": "always"})

    def set_policy(w: World, c: Caller) -> httpx.Response:
        path = f"/associations/{w.approved_association()['id']}/policy"
        return _call("PUT", path, c, json={"max_runs": 5})

    return [
        Door(
            "PUT",
            "/api/v1/users/{user_id}/password",
            "another account's",
            on_fresh_user("PUT", "/password", {"new_password": "another-password-1"}),
            logged_in(403, admin=204),
        ),
        Door(
            "PUT",
            "/api/v1/users/{user_id}/status",
            "another account's",
            on_fresh_user("PUT", "/status", {"disabled": True}),
            logged_in(403, **admin_only),
        ),
        Door(
            "DELETE",
            "/api/v1/users/{user_id}/tokens",
            "another account's",
            lambda w, c: c.client.delete(
                PREFIX + f"/users/{w.fresh_user().id}/tokens", headers=c.headers
            ),
            logged_in(403, **admin_only),
        ),
        Door(
            "GET",
            "/api/v1/users/me/signing-keys",
            "",
            get(lambda w: "/users/me/signing-keys"),
            logged_in(200),
        ),
        Door("POST", "/api/v1/users/me/signing-keys", "", new_key, logged_in(201)),
        Door(
            "GET",
            "/api/v1/signing-keys/{key_id}",
            "the data owner's",
            get(lambda w: f"/signing-keys/{w.api.keys[w.hospital.name].key_id}"),
            logged_in(200),
        ),
        Door("GET", "/api/v1/audit", "", get(lambda w: "/audit"), logged_in(200)),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/agreement",
            "an approved benchmark",
            set_agreement,
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "POST",
            "/api/v1/benchmarks/{benchmark_id}/agreement/acceptances",
            "an approved benchmark's agreement",
            accept,
            logged_in(201),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/agreement/acceptances",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/agreement/acceptances"),
            logged_in(200),
        ),
        Door(
            "PUT",
            "/api/v1/benchmarks/{benchmark_id}/auto-approval",
            "an approved benchmark",
            set_auto_approval,
            logged_in(403, **bench_and_admin),
        ),
        Door(
            "GET",
            "/api/v1/benchmarks/{benchmark_id}/data-policies",
            "",
            get(lambda w: f"/benchmarks/{w.benchmark['id']}/data-policies"),
            logged_in(200),
        ),
        Door(
            "PUT",
            "/api/v1/associations/{association_id}/policy",
            "a dataset's, approved",
            set_policy,
            logged_in(404, admin=403, bench=403, hospital=200),
        ),
    ]
