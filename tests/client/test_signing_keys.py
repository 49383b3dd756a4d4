"""The data owner's signing key on disk: owner-only whatever the umask, read back whole."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from medval.client.settings import ClientSettings
from medval.client.signing import load_signing_key, require_signing_key, save_signing_key
from medval.core.errors import InvalidInput, NotAuthenticated
from medval.trust.keys import SigningKey


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
