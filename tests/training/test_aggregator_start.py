"""Starting an aggregator: a certificate that does not match and a port in use are one
line and leave nothing running; a restarted aggregator remembers its admitted sites."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from medval.core.errors import InvalidInput, TrainingError
from medval.training.aggregator import Aggregator
from medval.training.ca import issue_server_certificate, new_experiment_ca, new_server_key_and_csr
from medval.training.flower_env import FlowerInstall
from medval.training.processes import descendant_groups, live_members

from .flower_sites import Experiment, new_experiment, new_site


def test_a_certificate_of_another_experiment_is_refused_before_anything_starts(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment = new_experiment(tmp_path)
    other_ca = new_experiment_ca("another experiment")
    key_pem, csr_pem = new_server_key_and_csr(experiment.address)
    foreign = issue_server_certificate(other_ca, csr_pem, experiment.address)
    settings = experiment.settings(tmp_path / "aggregator")
    settings = type(settings)(
        settings.workdir, settings.ca_cert_pem, foreign, key_pem, settings.address
    )
    with pytest.raises(InvalidInput) as error:
        Aggregator(settings, flower).start()
    assert str(error.value) == (
        "certificate does not match: it was not issued by this experiment's CA"
    )
    assert not settings.workdir.exists()


def test_a_server_key_that_is_not_the_certificates_is_refused(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment = new_experiment(tmp_path)
    other_key, _ = new_server_key_and_csr(experiment.address)
    settings = experiment.settings(tmp_path / "aggregator")
    settings = type(settings)(
        settings.workdir,
        settings.ca_cert_pem,
        settings.server_cert_pem,
        other_key,
        settings.address,
    )
    with pytest.raises(InvalidInput) as error:
        Aggregator(settings, flower).start()
    assert str(error.value) == "certificate does not match the aggregator's server key"


@pytest.mark.flower
def test_a_port_in_use_is_one_line_and_starts_no_superlink(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment = new_experiment(tmp_path)
    host, port = experiment.address.rsplit(":", 1)
    with socket.socket() as occupant:
        occupant.bind((host, int(port)))
        occupant.listen()
        aggregator = Aggregator(experiment.settings(tmp_path / "aggregator"), flower)
        with pytest.raises(TrainingError) as error:
            aggregator.start()
    assert str(error.value) == (
        f"the aggregator cannot listen on {experiment.address}: Address already in use"
    )
    assert error.value.exit_code == 14
    assert not aggregator.superlink.running()
    assert not (tmp_path / "aggregator" / "logs").exists()


def test_an_address_not_on_this_machine_is_one_line(flower: FlowerInstall, tmp_path: Path) -> None:
    experiment = new_experiment(tmp_path)
    port = experiment.address.rsplit(":", 1)[1]
    settings = experiment.settings(tmp_path / "aggregator")
    settings = type(settings)(
        settings.workdir,
        settings.ca_cert_pem,
        settings.server_cert_pem,
        settings.server_key_pem,
        settings.address,
        bind_host="192.0.2.1",
    )
    aggregator = Aggregator(settings, flower)
    with pytest.raises(TrainingError) as error:
        aggregator.start()
    assert str(error.value) == (
        f"the aggregator cannot listen on 192.0.2.1:{port}: Cannot assign requested address"
    )
    assert not aggregator.superlink.running()


@pytest.mark.flower
def test_a_restarted_aggregator_remembers_its_sites_and_still_stops_them(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment: Experiment = new_experiment(tmp_path)
    workdir = tmp_path / "aggregator"
    site = new_site(tmp_path, "hospital-d")
    with Aggregator(experiment.settings(workdir), flower) as first:
        assert first.sync_nodes({site.name: site.public_key}).registered == ["hospital-d"]
        superlink_pid = first.superlink.pid
        assert superlink_pid is not None
        # The SuperLink's group and SuperExec's (Flower starts it in a session of its own).
        groups = descendant_groups(superlink_pid)
        assert len(groups) == 2
    assert live_members(groups) == set()
    with Aggregator(experiment.settings(workdir), flower) as second:
        again = second.sync_nodes({site.name: site.public_key})
        assert (again.registered, again.unchanged) == ([], ["hospital-d"])
        node_id = second.admitted_sites()["hospital-d"].node_id
        assert second.control.node_states()[node_id] == "registered"
        assert second.sync_nodes({}, ["hospital-d"]).unregistered == ["hospital-d"]
        assert second.control.node_states()[node_id] == "unregistered"
