"""The run configuration (``[tool.flwr.app.config]`` with medval's plan laid over it) as
typed settings, read the same way by the ServerApp and the ClientApp.

A value that cannot be used (an unknown strategy, a setting the strategy does not have, a
negative count) raises ``ValueError`` with one line that names the key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

# Each strategy of flwr.serverapp.strategy a plan may name, and its own settings (kebab
# case of its constructor's arguments) beyond the fractions and minimum nodes.
_ADAPTIVE = ("eta", "eta-l", "beta-1", "beta-2", "tau")
STRATEGY_SETTINGS: dict[str, tuple[str, ...]] = {
    "FedAvg": (),
    "FedProx": ("proximal-mu",),
    "FedAdam": _ADAPTIVE,
    "FedYogi": _ADAPTIVE,
    "FedAdagrad": ("eta", "eta-l", "tau"),
    "FedAvgM": ("server-learning-rate", "server-momentum"),
    "FedMedian": (),
    "FedTrimmedAvg": ("beta",),
    "Krum": ("num-malicious-nodes",),
    "MultiKrum": ("num-malicious-nodes", "num-nodes-to-select"),
    "Bulyan": ("num-malicious-nodes",),
}
# Settings whose default differs between strategies: 0 in the run config leaves Flower's.
FLOWER_DEFAULT_WHEN_ZERO = frozenset({"eta", "eta-l"})
_INTEGER_SETTINGS = frozenset({"num-malicious-nodes", "num-nodes-to-select"})
# Strategies that combine the sites' updates by a weighted mean, which is all SecAgg+ lets
# the aggregator see; the robust ones (median, trimmed mean, Krum, Bulyan) need each update.
MEAN_STRATEGIES = frozenset({"FedAvg", "FedProx", "FedAdam", "FedYogi", "FedAdagrad", "FedAvgM"})


def _number(config: Mapping[str, object], key: str, default: float) -> float:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"run config {key}: {value!r} is not a number")
    return float(value)


def _count(config: Mapping[str, object], key: str, default: int, least: int) -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise ValueError(f"run config {key}: {value!r} is not a whole number >= {least}")
    return value


@dataclass(frozen=True)
class RunSettings:
    rounds: int
    strategy: str
    fraction_train: float
    min_nodes: int
    local_epochs: int
    seed: int
    learning_rate: float
    strategy_settings: dict[str, float | int] = field(default_factory=dict)
    dp_noise_multiplier: float = 0.0
    dp_clipping_norm: float = 0.0
    dp_delta: float = 1e-5
    secagg_num_shares: int = 0
    secagg_reconstruction_threshold: int = 0

    @property
    def differential_privacy(self) -> bool:
        return self.dp_noise_multiplier > 0

    @property
    def secure_aggregation(self) -> bool:
        return self.secagg_num_shares > 0

    @property
    def nodes_per_round(self) -> int:
        """How many sites each round trains on when ``min_nodes`` are connected."""
        return max(1, int(self.min_nodes * self.fraction_train))

    @property
    def proximal_mu(self) -> float:
        return float(self.strategy_settings.get("proximal-mu", 0.0))


def run_settings(config: Mapping[str, object]) -> RunSettings:
    strategy = str(config.get("strategy", "FedAvg"))
    if strategy not in STRATEGY_SETTINGS:
        known = ", ".join(STRATEGY_SETTINGS)
        raise ValueError(f"run config strategy: unknown strategy {strategy!r} (one of {known})")
    own: dict[str, float | int] = {}
    for key in STRATEGY_SETTINGS[strategy]:
        if key not in config:
            continue
        if key in _INTEGER_SETTINGS:
            own[key] = _count(config, key, 0, 0)
        elif key in FLOWER_DEFAULT_WHEN_ZERO and _number(config, key, 0.0) == 0:
            continue
        else:
            own[key] = _number(config, key, 0.0)
    fraction = _number(config, "fraction-train", 1.0)
    if not 0 < fraction <= 1:
        raise ValueError(f"run config fraction-train: {fraction} is not in (0, 1]")
    settings = RunSettings(
        rounds=_count(config, "num-server-rounds", 3, 1),
        strategy=strategy,
        fraction_train=fraction,
        min_nodes=_count(config, "min-nodes", 2, 1),
        local_epochs=_count(config, "local-epochs", 1, 1),
        seed=_count(config, "seed", 0, 0),
        learning_rate=_number(config, "learning-rate", 0.5),
        strategy_settings=own,
        dp_noise_multiplier=_number(config, "dp-noise-multiplier", 0.0),
        dp_clipping_norm=_number(config, "dp-clipping-norm", 0.0),
        dp_delta=_number(config, "dp-delta", 1e-5),
        secagg_num_shares=_count(config, "secagg-num-shares", 0, 0),
        secagg_reconstruction_threshold=_count(config, "secagg-reconstruction-threshold", 0, 0),
    )
    _check_privacy(settings)
    return settings


def _check_privacy(settings: RunSettings) -> None:
    if settings.dp_noise_multiplier < 0:
        raise ValueError("run config dp-noise-multiplier: must not be negative")
    if settings.differential_privacy and settings.dp_clipping_norm <= 0:
        raise ValueError("run config dp-clipping-norm: must be > 0 when dp-noise-multiplier is")
    if settings.differential_privacy and not 0 < settings.dp_delta < 1:
        raise ValueError("run config dp-delta: must be in (0, 1)")
    if not settings.secure_aggregation:
        return
    if settings.strategy not in MEAN_STRATEGIES:
        raise ValueError(
            f"run config secagg-num-shares: secure aggregation hides each site's update, "
            f"which {settings.strategy} needs (use one of {', '.join(sorted(MEAN_STRATEGIES))})"
        )
    if settings.secagg_num_shares < 3:
        raise ValueError("run config secagg-num-shares: SecAgg+ needs at least 3 shares")
    threshold = settings.secagg_reconstruction_threshold
    if not 2 <= threshold <= settings.secagg_num_shares:
        raise ValueError(
            f"run config secagg-reconstruction-threshold: {threshold} is not in "
            f"[2, secagg-num-shares]"
        )
