"""``medval model keys sync|list|grant|withhold`` against a real server: the model's key
reaches the two approved sites wrapped to their own keys, never the unapproved one; a
revoked site's key is gone and ``ReleasedModelKeys`` refuses it in one line (exit 16)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from medval.cli.main import main
from medval.client.encryption_keys import encryption_key_path, load_encryption_key
from medval.client.http import MedvalClient
from medval.client.model_keys import save_model_key
from medval.client.released_model_keys import ReleasedModelKeys
from medval.client.settings import ClientSettings, load_login
from medval.core.errors import KeyReleaseRefused
from medval.core.schemas import (
    AssociationCreate,
    BenchmarkCreate,
    CubeCreate,
    CubePublic,
    DatasetCreate,
)
from medval.core.sealed_models import SealedArchive
from medval.core.states import ApprovalStatus, AssociationKind, CubeKind
from tests.conftest import LiveServer

PASSWORD = "first-password-1"
MODEL_KEY = os.urandom(32)
SITES = ("hospital", "clinic", "stranger")


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


Medval = Callable[..., Outcome]


@dataclass
class Federation:
    run: dict[str, Medval]
    homes: dict[str, Path]
    url: str
    model: CubePublic
    associations: dict[str, int]  # each site's dataset association

    def client(self, name: str) -> MedvalClient:
        login = load_login(ClientSettings(home=self.homes[name]))
        assert login is not None
        return MedvalClient(self.url, login.token)

    def released(self, name: str) -> ReleasedModelKeys:
        settings = ClientSettings(home=self.homes[name])
        return ReleasedModelKeys(self.client(name), settings, name)


def _blob(client: MedvalClient, data: bytes) -> str:
    sha = hashlib.sha256(data).hexdigest()
    client.upload_blob(sha, data)
    return sha


def _cube(client: MedvalClient, kind: CubeKind, name: str) -> int:
    archive = _blob(client, f"{name} archive".encode())
    return client.register_cube(CubeCreate(name=name, kind=kind, archive_hash=archive)).id


@pytest.fixture
def federation(
    live_server: LiveServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Federation]:
    """An approved benchmark; hospital's and clinic's datasets approved on it, stranger's
    only requested; vendor's private model approved on it, its key in vendor's store."""
    monkeypatch.setenv("MEDVAL_SERVER", live_server.url)
    monkeypatch.setenv("COLUMNS", "200")
    for variable in ("MEDVAL_PASSWORD", "MEDVAL_DEBUG"):
        monkeypatch.delenv(variable, raising=False)
    homes = {name: tmp_path / name for name in ("root", "bench", "vendor", *SITES)}

    def person(name: str) -> Medval:
        def run(*args: str, stdin: str = "") -> Outcome:
            monkeypatch.setenv("MEDVAL_HOME", str(homes[name]))
            monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
            capsys.readouterr()
            code = main(list(args))
            out = capsys.readouterr()
            return Outcome(code, out.out, out.err.strip())

        return run

    live_server.make_admin("root", PASSWORD)
    run = {name: person(name) for name in homes}
    login = ("login", "--password-stdin", "-u")
    assert run["root"](*login, "root", stdin=PASSWORD + "\n").code == 0
    for name in ("bench", "vendor", *SITES):
        created = run["root"]("users", "create", name, "--password-stdin", stdin=PASSWORD)
        assert created.code == 0, created.stderr
        logged_in = run[name](*login, name, stdin=PASSWORD + "\n")
        assert logged_in.code == 0, logged_in.stderr
    world = Federation(run, homes, live_server.url, None, {})  # type: ignore[arg-type]
    with world.client("bench") as bench, world.client("root") as root:
        prep = _cube(bench, CubeKind.DATA_PREPARATOR, "prep")
        benchmark = bench.register_benchmark(
            BenchmarkCreate(
                name="chest",
                data_preparator_id=prep,
                reference_model_id=_cube(bench, CubeKind.MODEL, "reference"),
                evaluator_id=_cube(bench, CubeKind.EVALUATOR, "metrics"),
                demo_data_hash=_blob(bench, b"demo data"),
            )
        )
        root.decide_benchmark(benchmark.id, ApprovalStatus.APPROVED)
        for site in SITES:
            with world.client(site) as client:
                dataset = client.register_dataset(
                    DatasetCreate(
                        name=f"{site}-data",
                        data_preparator_id=prep,
                        data_hash=hashlib.sha256(site.encode()).hexdigest(),
                        statistics={"n_cases": 100, "values": {}},  # type: ignore[arg-type]
                    )
                )
                asked = client.request_association(
                    AssociationCreate(
                        benchmark_id=benchmark.id,
                        kind=AssociationKind.DATASET,
                        entity_id=dataset.id,
                    )
                )
            world.associations[site] = asked.id
            if site != "stranger":
                bench.decide_association(asked.id, ApprovalStatus.APPROVED)
        with world.client("vendor") as vendor:
            sealed = _blob(vendor, b"the sealed archive (any bytes will do here)")
            model = vendor.register_cube(
                CubeCreate(
                    name="private-model",
                    kind=CubeKind.MODEL,
                    archive_hash=hashlib.sha256(b"the archive in clear").hexdigest(),
                    sealed=SealedArchive(sealed_hash=sealed),
                )
            )
            asked = vendor.request_association(
                AssociationCreate(
                    benchmark_id=benchmark.id, kind=AssociationKind.MODEL, entity_id=model.id
                )
            )
            bench.decide_association(asked.id, ApprovalStatus.APPROVED)
    save_model_key(ClientSettings(home=homes["vendor"]), "vendor", sealed, MODEL_KEY)
    world.model = model
    yield world


def test_login_makes_an_encryption_key_readable_by_its_owner_only(
    federation: Federation,
) -> None:
    settings = ClientSettings(home=federation.homes["hospital"])
    path = encryption_key_path(settings, "hospital")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    key = load_encryption_key(settings, "hospital")
    assert key is not None
    with federation.client("hospital") as client:
        [registered] = client.model_keys.my_encryption_keys()
    assert registered.key_id == key.key_id
    # A second login keeps the key (and registers nothing new).
    again = federation.run["hospital"](
        "login", "--password-stdin", "-u", "hospital", stdin=PASSWORD + "\n"
    )
    assert again.code == 0 and "encryption key" not in again.stderr
    assert load_encryption_key(settings, "hospital").key_id == key.key_id  # type: ignore[union-attr]


def test_sync_grants_the_approved_sites_and_a_revoked_site_loses_its_key(
    federation: Federation,
) -> None:
    model, vendor = federation.model, federation.run["vendor"]
    synced = vendor("model", "keys", "sync", str(model.id))
    assert synced.code == 0, synced.stderr
    assert synced.stdout.splitlines() == ["hospital: granted", "clinic: granted"]
    listed = vendor("model", "keys", "list", str(model.id), "--format", "json")
    assert [(r["recipient"], r["state"]) for r in json.loads(listed.stdout)] == [
        ("hospital", "held"),
        ("clinic", "held"),
    ]
    for site in ("hospital", "clinic"):
        assert federation.released(site).key_for(model) == MODEL_KEY
    with pytest.raises(KeyReleaseRefused) as never:
        federation.released("stranger").key_for(model)
    assert str(never.value) == (
        f"key release refused: site stranger is not approved for model {model.id}"
    )
    assert never.value.exit_code == 16
    again = vendor("model", "keys", "sync", str(model.id))
    assert again.stdout.splitlines() == [
        "hospital: holds the key already",
        "clinic: holds the key already",
    ]

    with federation.client("hospital") as hospital:
        hospital.revoke_association(federation.associations["hospital"])
    listed = vendor("model", "keys", "list", str(model.id), "--format", "json")
    assert [(r["recipient"], r["state"]) for r in json.loads(listed.stdout)] == [("clinic", "held")]
    with pytest.raises(KeyReleaseRefused) as revoked:
        federation.released("hospital").key_for(model)
    assert str(revoked.value) == (
        f"key release refused: site hospital is not approved for model {model.id}"
    )
    assert revoked.value.exit_code == 16
    assert federation.released("clinic").key_for(model) == MODEL_KEY


def test_withhold_asks_first_and_sync_skips_the_site_until_it_is_granted(
    federation: Federation,
) -> None:
    model, vendor = federation.model, federation.run["vendor"]
    assert vendor("model", "keys", "sync", str(model.id)).code == 0
    unasked = vendor("model", "keys", "withhold", str(model.id), "--site", "clinic")
    assert (unasked.code, unasked.stderr) == (
        10,
        f"error: Withhold the key of model {model.name} from clinic? — no terminal to ask on; "
        "pass --yes to approve",
    )
    assert federation.released("clinic").key_for(model) == MODEL_KEY
    withheld = vendor("model", "keys", "withhold", str(model.id), "--site", "clinic", "--yes")
    assert (withheld.code, withheld.stderr) == (
        0,
        f"clinic: the key of model {model.name} is withheld",
    )
    with pytest.raises(KeyReleaseRefused) as refused:
        federation.released("clinic").key_for(model)
    assert str(refused.value) == (
        f"key release refused: the owner of model {model.name} withholds its key from clinic"
    )
    synced = vendor("model", "keys", "sync", str(model.id))
    assert synced.stdout.splitlines() == [
        "hospital: holds the key already",
        "clinic: withheld: skipped (grant it with 'medval model keys grant')",
    ]
    granted = vendor("model", "keys", "grant", str(model.id), "--site", "clinic")
    assert (granted.code, granted.stderr) == (0, f"clinic: granted the key of model {model.name}")
    assert federation.released("clinic").key_for(model) == MODEL_KEY


def test_bad_requests_are_one_line(federation: Federation) -> None:
    model, vendor = federation.model, federation.run["vendor"]
    stranger = vendor("model", "keys", "grant", str(model.id), "--site", "stranger")
    assert (stranger.code, stranger.stderr) == (
        5,
        f"error: stranger is not approved to run model {model.name}: no dataset of theirs has an "
        "approved association with a benchmark where the model is approved",
    )
    not_owner = federation.run["bench"]("model", "keys", "sync", str(model.id))
    assert (not_owner.code, not_owner.stderr) == (
        3,
        f"error: only the owner of model {model.name} may share its key",
    )
    with federation.client("bench") as bench:
        reference = bench.benchmarks()[0].reference_model_id
    public = vendor("model", "keys", "sync", str(reference))
    assert (public.code, public.stderr) == (
        2,
        "error: model reference is not private: it has no key to share",
    )
    # The model's key is not on this machine (another home of the vendor's).
    key_file = next((federation.homes["vendor"] / "keys").rglob("*.key"))
    key_file.unlink()
    lost = vendor("model", "keys", "sync", str(model.id))
    assert (lost.code, lost.stderr) == (
        16,
        f"error: no key for model {model.name} on this machine for vendor",
    )


def test_a_site_on_a_new_machine_gets_the_key_after_the_next_sync(
    federation: Federation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    model, vendor = federation.model, federation.run["vendor"]
    assert vendor("model", "keys", "sync", str(model.id)).code == 0
    # The hospital logs in from a second machine: a new encryption key, registered.
    federation.homes["hospital-2"] = tmp_path / "hospital-2"
    monkeypatch.setenv("MEDVAL_HOME", str(federation.homes["hospital-2"]))
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["login", "--password-stdin", "-u", "hospital"]) == 0
    second = load_encryption_key(ClientSettings(home=federation.homes["hospital-2"]), "hospital")
    assert second is not None
    settings = ClientSettings(home=federation.homes["hospital-2"])
    with federation.client("hospital-2") as client:
        released = ReleasedModelKeys(client, settings, "hospital")
        with pytest.raises(KeyReleaseRefused) as other:
            released.key_for(model)
        assert str(other.value) == (
            f"the key of model {model.name} was wrapped to another encryption key than this "
            f"machine's ({second.key_id[:16]}); its owner wraps it again with "
            "'medval model keys sync'"
        )
        synced = vendor("model", "keys", "sync", str(model.id))
        assert synced.stdout.splitlines() == [
            "hospital: granted again (its encryption key changed)",
            "clinic: holds the key already",
        ]
        assert released.key_for(model) == MODEL_KEY
