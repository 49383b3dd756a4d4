"""Settings and environment: the aggregator's address, and Flower where medval looks."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.errors import InvalidInput
from medval.training.aggregator import AggregatorSettings
from medval.training.flower_env import find_flower


def _settings(address: str, bind_host: str | None = None) -> AggregatorSettings:
    return AggregatorSettings(Path("/nonexistent"), b"", b"", b"", address, bind_host)


@pytest.mark.parametrize(
    ("address", "host", "port", "listen"),
    [
        ("127.0.0.1:9092", "127.0.0.1", 9092, "127.0.0.1"),
        ("[::1]:9092", "::1", 9092, "::1"),
        ("agg.example.org:443", "agg.example.org", 443, "0.0.0.0"),
    ],
)
def test_the_address_gives_host_port_and_where_to_listen(
    address: str, host: str, port: int, listen: str
) -> None:
    settings = _settings(address)
    assert (settings.host, settings.port, settings.listen_host) == (host, port, listen)


def test_an_explicit_bind_host_wins() -> None:
    assert _settings("agg.example.org:443", "10.0.0.7").listen_host == "10.0.0.7"


@pytest.mark.parametrize("address", ["agg.example.org", "agg.example.org:0", "::1", "1.2.3.4:x"])
def test_an_address_without_a_port_is_refused(address: str) -> None:
    with pytest.raises(InvalidInput) as error:
        _ = _settings(address).port
    assert str(error.value) == (
        f"aggregator address {address!r} needs a port (host:port or [v6]:port)"
    )


def test_flower_is_looked_for_in_the_environment_medval_runs_in(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        find_flower(prefix=tmp_path)
    assert str(error.value) == (
        f"Flower's command flower-superlink is not in {tmp_path / 'bin'}; reinstall: "
        "pip install 'medval[training]'"
    )
