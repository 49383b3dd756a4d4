"""What a simulated federation is made of (``medval simulate``): its accounts, each
signed in once as ``medval login`` signs in, a trivial benchmark's cubes, and the small
synthetic data each site holds.

The cubes do almost nothing, on purpose: the simulation measures medval (HTTP, hashing,
the sandbox's start and stop, the server's writes), not a model. They are shell scripts
rather than Python so that a task costs what the sandbox costs, not an interpreter's
start-up; they still run in the real sandbox through the runner, read their mounts and
write the documents medval reads back strictly. Everything here is generated, nothing
downloaded; the same site index always gives the same data.

Imports: the client's HTTP client, settings and signing key; the core.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from pathlib import Path

import httpx

from medval.client.encryption_keys import ensure_encryption_key
from medval.client.http import CONNECTION_LIMITS, MedvalClient
from medval.client.settings import ClientSettings, StoredLogin, save_login
from medval.client.signing import ensure_signing_key
from medval.core.schemas import UserCreate

SPEC_FILE = "medval-cube.yaml"

# Each script reads the mounts it is given (``--NAME=PATH``) into shell variables.
_ARGUMENTS = """\
for argument in "$@"; do
  case "$argument" in
    --data_path=*) data="${argument#*=}" ;;
    --labels_path=* | --labels=*) labels="${argument#*=}" ;;
    --output_path=*) output="${argument#*=}" ;;
    --output_labels_path=*) output_labels="${argument#*=}" ;;
    --predictions=*) predictions="${argument#*=}" ;;
  esac
done
"""

_PREPARATOR = {
    SPEC_FILE: """\
name: simulation-prep
kind: data_preparator
tasks:
  prepare:      {entrypoint: [sh, prepare.sh]}
  sanity_check: {entrypoint: [sh, sanity_check.sh]}
  statistics:   {entrypoint: [sh, statistics.sh]}
""",
    "prepare.sh": _ARGUMENTS
    + 'cp "$data/cases.csv" "$output/cases.csv"\ncp "$labels/labels.csv" '
    + '"$output_labels/labels.csv"\n',
    "sanity_check.sh": _ARGUMENTS + 'test -s "$data/cases.csv" && test -s "$labels/labels.csv"\n',
    "statistics.sh": _ARGUMENTS
    + 'rows=$(($(wc -l < "$data/cases.csv") - 1))\n'
    + 'printf \'{"n_cases": %d, "values": {"rows": %d.5}}\\n\' "$rows" "$rows" '
    + '> "$output/statistics.json"\n',
}

_EVALUATOR = {
    SPEC_FILE: """\
name: simulation-evaluator
kind: evaluator
tasks:
  evaluate: {entrypoint: [sh, evaluate.sh]}
""",
    # A linear score from the number of cases (never a proportion: no small cell).
    "evaluate.sh": _ARGUMENTS
    + 'rows=$(($(wc -l < "$labels/labels.csv") - 1))\n'
    + 'printf \'{"n_cases": %d, "metrics": {"score": {"value": %d.5, '
    + '"lower": %d.0, "upper": %d.9}}}\\n\' "$rows" "$rows" "$rows" "$rows" '
    + '> "$output/results.json"\n',
}


def _model(name: str) -> dict[str, str]:
    return {
        SPEC_FILE: f"name: {name}\nkind: model\ntasks:\n  infer: {{entrypoint: [sh, infer.sh]}}\n",
        "infer.sh": _ARGUMENTS + 'cp "$data/cases.csv" "$output/predictions.csv"\n',
    }


@dataclass(frozen=True)
class TrivialCubes:
    """The folders of the trivial benchmark's cubes: ``models`` are the model owner's."""

    preparator: Path
    reference: Path
    evaluator: Path
    models: tuple[Path, ...]


def _write_cube(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def write_trivial_cubes(folder: Path, models: int, tag: str) -> TrivialCubes:
    """The cubes in new folders under ``folder``; ``tag`` makes the model cubes' names
    (and so their hashes) this simulation's own."""
    return TrivialCubes(
        preparator=_write_cube(folder / "prep", _PREPARATOR),
        reference=_write_cube(folder / "reference", _model(f"{tag}-reference")),
        evaluator=_write_cube(folder / "evaluator", _EVALUATOR),
        models=tuple(
            _write_cube(folder / f"model-{n}", _model(f"{tag}-model-{n}"))
            for n in range(1, models + 1)
        ),
    )


@dataclass(frozen=True)
class SiteData:
    data_path: Path
    labels_path: Path


def write_site_data(folder: Path, seed: int, cases: int) -> SiteData:
    """A site's raw export: ``cases.csv`` (an id and one value) and ``labels.csv``."""
    rng = random.Random(seed)
    data = SiteData(folder / "data", folder / "labels")
    data.data_path.mkdir(parents=True)
    data.labels_path.mkdir(parents=True)
    rows = [(f"C{seed}-{n:04d}", rng.gauss(50, 10), rng.randint(0, 1)) for n in range(cases)]
    (data.data_path / "cases.csv").write_text(
        "case_id,value\n" + "".join(f"{c},{v:.3f}\n" for c, v, _ in rows)
    )
    (data.labels_path / "labels.csv").write_text(
        "case_id,outcome\n" + "".join(f"{c},{y}\n" for c, _, y in rows)
    )
    return data


class RequestCount(httpx.BaseTransport):
    """Counts the HTTP requests every site's client sends (one shared count), then sends
    them on through the client's own connection pool."""

    def __init__(self, inner: httpx.BaseTransport, shared: RequestTally) -> None:
        self.inner = inner
        self.shared = shared

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.shared.add()
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


class RequestTally:
    """How many HTTP requests the simulation's clients sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self) -> None:
        with self._lock:
            self.count += 1


def counted_client(
    url: str, token: str | None, settings: ClientSettings, tally: RequestTally
) -> MedvalClient:
    """A client whose requests are counted in ``tally`` (one connection pool of its own)."""
    transport = RequestCount(httpx.HTTPTransport(limits=CONNECTION_LIMITS), tally)
    return MedvalClient(url, token, timeout=settings.http_timeout_seconds, transport=transport)


def sign_in(
    url: str, settings: ClientSettings, username: str, password: str, tally: RequestTally
) -> MedvalClient:
    """What ``medval login`` does, once: a token kept in the client folder, a signing key
    and an encryption key made and registered; the logged-in client is returned (for
    every later call)."""
    with counted_client(url, None, settings, tally) as anonymous:
        token = anonymous.login(username, password)
    save_login(
        settings,
        StoredLogin(server=url, username=username, token=token.token, expires_at=token.expires_at),
    )
    client = counted_client(url, token.token, settings, tally)
    ensure_signing_key(client, settings, username)
    ensure_encryption_key(client, settings, username)
    return client


def create_account(admin: MedvalClient, username: str, password: str) -> None:
    """An account as ``medval users create`` makes it (the admin's own client)."""
    admin.create_user(UserCreate(username=username, password=password))
