"""The data owner's signing key on disk: owner-only whatever the umask, read back whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.client.http import MedvalClient
from medval.client.settings import ClientSettings
from medval.client.signing import (
    ensure_signing_key,
    load_signing_key,
    require_signing_key,
    rotate,
    save_signing_key,
)
from medval.core.errors import InvalidInput, NotAuthenticated
from medval.trust.keys import SigningKey
from tests.conftest import LiveServer


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0o000)
    try:
        yield
    finally:
        os.umask(before)


def test_the_key_is_0600_in_0700_folders_whatever_the_umask_and_before(
    tmp_path: Path, open_umask: None
) -> None:
    settings = ClientSettings(home=tmp_path / "home")
    folder = settings.home / "keys" / "hospital"
    folder.mkdir(parents=True, mode=0o777)
    (settings.home / "keys").chmod(0o755)
    (folder / "signing-key.pem").write_bytes(b"old")
    (folder / "signing-key.pem").chmod(0o644)
    key = SigningKey.generate()
    path = save_signing_key(settings, "hospital", key)
    assert path == folder / "signing-key.pem"
    assert path.stat().st_mode & 0o777 == 0o600
    assert folder.stat().st_mode & 0o777 == 0o700
    assert (settings.home / "keys").stat().st_mode & 0o777 == 0o700
    assert [p.name for p in folder.iterdir()] == ["signing-key.pem"]  # no temporary left
    loaded = load_signing_key(settings, "hospital")
    assert loaded is not None and loaded.key_id == key.key_id


def test_no_key_or_a_broken_key_is_one_line(tmp_path: Path) -> None:
    settings = ClientSettings(home=tmp_path)
    with pytest.raises(NotAuthenticated) as raised:
        require_signing_key(settings, "hospital")
    assert raised.value.message == (
        "no signing key for hospital on this machine; run 'medval login' to make one"
    )
    path = tmp_path / "keys" / "hospital" / "signing-key.pem"
    path.parent.mkdir(parents=True)
    path.write_text("not a key")
    with pytest.raises(InvalidInput) as broken:
        load_signing_key(settings, "hospital")
    assert broken.value.message == f"{path} does not hold a signing key (PEM, PKCS #8)"
    with pytest.raises(InvalidInput):
        load_signing_key(settings, "../escape")


def test_login_makes_a_key_once_registers_it_and_notes_a_retired_one(
    tmp_path: Path, live_server: LiveServer
) -> None:
    live_server.make_admin("hospital", "hospital-password")
    with MedvalClient(live_server.url) as anonymous:
        token = anonymous.login("hospital", "hospital-password").token
    here = ClientSettings(home=tmp_path / "here")
    with MedvalClient(live_server.url, token) as client:
        first = ensure_signing_key(client, here, "hospital")
        assert first.made and first.note is None
        assert first.registered is not None and first.registered.key_id == first.key.key_id
        again = ensure_signing_key(client, here, "hospital")  # the next login: nothing new
        assert (again.made, again.key.key_id) == (False, first.key.key_id)
        # Another machine of the same account rotates: this machine's key is retired.
        elsewhere = ClientSettings(home=tmp_path / "elsewhere")
        old, new = rotate(client, elsewhere, "hospital")
        assert old is None and new.key_id != first.key.key_id
        stale = ensure_signing_key(client, here, "hospital")
        assert stale.registered is None
        assert stale.note == (
            f"this machine's signing key {first.key.key_id[:16]} was retired on the server; "
            "run 'medval keys rotate' before uploading results"
        )
        old, newest = rotate(client, here, "hospital")
        assert old == first.key.key_id
        keys = client.my_signing_keys()
    assert [(k.key_id, k.retired_at is None) for k in keys] == [
        (first.key.key_id, False),
        (new.key_id, False),
        (newest.key_id, True),
    ]
    loaded = load_signing_key(here, "hospital")
    assert loaded is not None and loaded.key_id == newest.key_id
