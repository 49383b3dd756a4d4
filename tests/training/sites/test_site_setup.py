"""A site's inputs are checked before any Flower process starts: one line for each mistake."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from medval.core.errors import InvalidInput
from medval.runner import runner_for
from medval.training.ca import new_node_key
from medval.training.node_key import write_node_key
from medval.training.site import Site, SiteSetup
from medval.training.site_progress import SiteProgress

from .harness import write_dataset
from .pki import ExperimentPki, make_pki

PIN = "ab" * 32


def pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.fixture
def pki(tmp_path: Path) -> ExperimentPki:
    return make_pki(tmp_path / "pki")


def setup(tmp_path: Path, pki: ExperimentPki, **changes: object) -> SiteSetup:
    fields: dict[str, object] = {
        "workdir": tmp_path / "site",
        "aggregator": "127.0.0.1:9092",
        "ca_certificate": pki.ca_certificate,
        "node_private_key": pem(ec.generate_private_key(ec.SECP384R1())),
        "dataset": tmp_path / "data",
        "training_app_sha256": PIN,
        "runner": runner_for("local"),
    }
    fields.update(changes)
    if not (tmp_path / "data").exists():
        write_dataset(tmp_path / "data", 0)
    return SiteSetup(**fields)  # type: ignore[arg-type]


def ignore(event: SiteProgress) -> None:
    return None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"aggregator": "aggregator.example"},
            "the aggregator's address must be HOST:PORT, not 'aggregator.example'",
        ),
        (
            {"aggregator": "127.0.0.1:70000"},
            "the aggregator's address must be HOST:PORT, not '127.0.0.1:70000'",
        ),
        (
            {"training_app_sha256": "AB" * 32},
            f"the training app's pin must be a sha256 (64 hex digits), not {'AB' * 32!r}",
        ),
    ],
)
def test_a_wrong_address_or_pin_is_one_line(
    tmp_path: Path, pki: ExperimentPki, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        Site(setup(tmp_path, pki, **changes), ignore)
    assert raised.value.message == message


def test_a_missing_dataset_is_one_line(tmp_path: Path, pki: ExperimentPki) -> None:
    absent = tmp_path / "absent"
    with pytest.raises(InvalidInput) as raised:
        Site(setup(tmp_path, pki, dataset=absent), ignore)
    assert raised.value.message == f"the prepared dataset is not a folder: {absent}"


def test_a_ca_certificate_that_is_not_one_is_one_line(tmp_path: Path, pki: ExperimentPki) -> None:
    bogus = tmp_path / "ca.crt"
    bogus.write_text("not a certificate\n")
    with pytest.raises(InvalidInput) as raised:
        Site(setup(tmp_path, pki, ca_certificate=bogus), ignore)
    assert raised.value.message == f"{bogus} is not a PEM certificate (the experiment's CA)"


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (b"garbage", "the site's node key is not an unencrypted PEM private key"),
        (
            pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)),
            "the site's node key is not an ECDSA key on P-256, P-384 or P-521, which "
            "Flower's SuperNode authentication needs",
        ),
        (
            pem(ec.generate_private_key(ec.SECP256K1())),
            "the site's node key is not an ECDSA key on P-256, P-384 or P-521, which "
            "Flower's SuperNode authentication needs",
        ),
    ],
)
def test_a_node_key_flower_cannot_use_is_one_line(tmp_path: Path, key: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        write_node_key(key, tmp_path / "node")
    assert raised.value.message == message
    assert not (tmp_path / "node").exists()


@pytest.mark.parametrize("form", ["pkcs8", "as medval's CA issues it"])
def test_the_node_key_is_written_as_flower_reads_it_for_its_owner_only(
    tmp_path: Path, form: str
) -> None:
    if form == "pkcs8":
        key = ec.generate_private_key(ec.SECP384R1())
        given = pem(key)
    else:
        given, _ = new_node_key()
        loaded = serialization.load_ssh_private_key(given, password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        key = loaded
    public = write_node_key(given, tmp_path / "node")
    written = (tmp_path / "node").read_bytes()
    assert written.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    loaded = serialization.load_ssh_private_key(written, password=None)
    assert isinstance(loaded, ec.EllipticCurvePrivateKey)
    assert loaded.private_numbers() == key.private_numbers()
    assert stat.S_IMODE((tmp_path / "node").stat().st_mode) == 0o600
    assert (
        public
        == key.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode()
    )
