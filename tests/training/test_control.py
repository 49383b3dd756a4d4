"""The SuperLink's Control API as the aggregator calls it (in process, with Flower's own
client): answers read right, and each refusal or failure is one line in Flower's words
or medval's, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from medval.core.errors import TrainingError
from medval.training.aggregator import Aggregator
from medval.training.control import KEY_IN_USE, ControlRefused
from medval.training.flower_env import FlowerInstall

from .flower_sites import new_experiment, new_site

pytestmark = pytest.mark.flower


def test_registered_nodes_are_listed_and_refusals_are_flowers_words(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment = new_experiment(tmp_path)
    site, other = new_site(tmp_path, "hospital-a"), new_site(tmp_path, "hospital-b")
    with Aggregator(experiment.settings(tmp_path / "aggregator"), flower) as aggregator:
        control = aggregator.control
        first = control.register_node(site.public_key, site.name)
        second = control.register_node(other.public_key, other.name)
        assert first != second
        assert control.node_states() == {first: "registered", second: "registered"}
        with pytest.raises(ControlRefused) as twice:
            control.register_node(site.public_key, "hospital-a-again")
        assert twice.value.reason.startswith(KEY_IN_USE)
        assert str(twice.value) == (
            f"registering node hospital-a-again: the SuperLink refused: {twice.value.reason}"
        )
        control.unregister_node(first)
        assert control.node_states() == {first: "unregistered", second: "registered"}
        with pytest.raises(TrainingError) as unknown:
            control.run_status(424242)
        assert str(unknown.value) == (
            "reading run 424242: the SuperLink refused: [code: 16] Run ID not found."
        )
    with pytest.raises(TrainingError) as gone:
        control.node_states()
    assert str(gone.value).startswith("listing nodes: the SuperLink cannot be reached (")
    assert "\n" not in str(gone.value)


def test_a_key_the_aggregator_has_no_record_of_needs_a_new_key(
    flower: FlowerInstall, tmp_path: Path
) -> None:
    experiment = new_experiment(tmp_path)
    workdir = tmp_path / "aggregator"
    site = new_site(tmp_path, "hospital-d")
    with Aggregator(experiment.settings(workdir), flower) as first:
        assert first.sync_nodes({site.name: site.public_key}).registered == ["hospital-d"]
    records = workdir / "nodes.json"
    records.unlink()  # the aggregator's record of it lost; Flower's kept
    with (
        Aggregator(experiment.settings(workdir), flower) as second,
        pytest.raises(TrainingError) as error,
    ):
        second.sync_nodes({site.name: site.public_key})
    assert str(error.value) == (
        "the node key of site hospital-d is registered at the SuperLink but not in this "
        f"aggregator's records ({records}); it needs a new node key"
    )
