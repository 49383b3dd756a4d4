"""A training experiment's plan: rounds, Flower strategy and its settings, privacy.

The plan is what the committee approves and what a data owner sees before joining. medval
never trains anything itself: it hands the plan to the training cube's Flower app as run
configuration (Flower's ``--run-config``), under the key names Flower's own app templates
use, so an app written from Flower's documentation reads them as it is:

=============================  ==========================================================
run-config key                 from the plan
=============================  ==========================================================
``num-server-rounds``          ``rounds``
``strategy``                   ``strategy`` (a name from ``flwr.serverapp.strategy``)
``fraction-train``             ``fraction_train``
``min-nodes``                  ``min_sites`` (Flower's ``min_available_nodes``)
``local-epochs``               ``local_epochs``
``seed``                       ``seed``
each of ``settings``           as named (kebab case of the strategy's own argument)
``dp-noise-multiplier``,       ``differential_privacy`` (client-side fixed clipping,
``dp-clipping-norm``,          Flower's ``DifferentialPrivacyClientSideFixedClipping``;
``dp-delta``                   the delta at which the app reports the epsilon spent)
``secagg-num-shares``,         ``secure_aggregation`` (Flower's SecAgg+)
``secagg-reconstruction-
threshold``
=============================  ==========================================================

An app must declare every key the plan sets in its ``[tool.flwr.app.config]`` (checked
when the experiment is registered): a key it does not declare is a setting it would
silently ignore. Imports nothing but pydantic and ``core``.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from medval.core.errors import InvalidInput

# A run-config value as Flower holds it (its UserConfigValue): a scalar.
ConfigText = Annotated[str, StringConstraints(max_length=200)]
ConfigValue = StrictBool | StrictInt | StrictFloat | ConfigText
SettingName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,63}$")]


class FlowerStrategy(StrEnum):
    """The strategies of ``flwr.serverapp.strategy`` (Flower 1.42) a plan may name."""

    FED_AVG = "FedAvg"
    FED_PROX = "FedProx"
    FED_ADAM = "FedAdam"
    FED_YOGI = "FedYogi"
    FED_ADAGRAD = "FedAdagrad"
    FED_AVG_M = "FedAvgM"
    FED_MEDIAN = "FedMedian"
    FED_TRIMMED_AVG = "FedTrimmedAvg"
    KRUM = "Krum"
    MULTI_KRUM = "MultiKrum"
    BULYAN = "Bulyan"


# Each strategy's own arguments beyond those every one has (fractions, minimum nodes),
# in Flower's words made kebab case: the settings a plan may give it.
_ADAPTIVE = frozenset({"eta", "eta-l", "beta-1", "beta-2", "tau"})
STRATEGY_SETTINGS: dict[FlowerStrategy, frozenset[str]] = {
    FlowerStrategy.FED_AVG: frozenset(),
    FlowerStrategy.FED_PROX: frozenset({"proximal-mu"}),
    FlowerStrategy.FED_ADAM: _ADAPTIVE,
    FlowerStrategy.FED_YOGI: _ADAPTIVE,
    FlowerStrategy.FED_ADAGRAD: frozenset({"eta", "eta-l", "tau"}),
    FlowerStrategy.FED_AVG_M: frozenset({"server-learning-rate", "server-momentum"}),
    FlowerStrategy.FED_MEDIAN: frozenset(),
    FlowerStrategy.FED_TRIMMED_AVG: frozenset({"beta"}),
    FlowerStrategy.KRUM: frozenset({"num-malicious-nodes"}),
    FlowerStrategy.MULTI_KRUM: frozenset({"num-malicious-nodes", "num-nodes-to-select"}),
    FlowerStrategy.BULYAN: frozenset({"num-malicious-nodes"}),
}

# Keys the plan itself sets: a setting may not take one of them over.
PLAN_KEYS = frozenset(
    {"num-server-rounds", "strategy", "fraction-train", "min-nodes", "local-epochs", "seed"}
)
DP_KEYS = ("dp-noise-multiplier", "dp-clipping-norm", "dp-delta")
SECAGG_KEYS = ("secagg-num-shares", "secagg-reconstruction-threshold")


class _Plan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DifferentialPrivacy(_Plan):
    """Client-side fixed clipping: each site clips its update to ``clipping_norm``; the
    aggregator adds Gaussian noise of ``noise_multiplier`` times it to the sum."""

    noise_multiplier: StrictFloat | StrictInt = Field(gt=0, le=100)
    clipping_norm: StrictFloat | StrictInt = Field(gt=0, le=1e6)
    # The delta of the (epsilon, delta) guarantee reported beside epsilon.
    delta: StrictFloat = Field(default=1e-5, gt=0, lt=1)


class SecureAggregation(_Plan):
    """SecAgg+: the aggregator sees only the sum of the sites' updates, as long as fewer
    than ``reconstruction_threshold`` sites collude with it."""

    num_shares: StrictInt = Field(ge=3, le=1000)
    reconstruction_threshold: StrictInt = Field(ge=2, le=1000)

    @model_validator(mode="after")
    def _threshold_within_shares(self) -> SecureAggregation:
        if self.reconstruction_threshold > self.num_shares:
            raise ValueError(
                f"reconstruction_threshold ({self.reconstruction_threshold}) is more than "
                f"num_shares ({self.num_shares})"
            )
        return self


class TrainingPlan(_Plan):
    rounds: StrictInt = Field(ge=1, le=10_000)
    strategy: FlowerStrategy = FlowerStrategy.FED_AVG
    settings: dict[SettingName, ConfigValue] = Field(default_factory=dict, max_length=50)
    min_sites: StrictInt = Field(ge=1, le=100_000)
    fraction_train: StrictFloat | StrictInt = Field(default=1.0, gt=0, le=1)
    local_epochs: StrictInt = Field(default=1, ge=1, le=10_000)
    seed: StrictInt = Field(default=0, ge=0, le=2**31 - 1)
    differential_privacy: DifferentialPrivacy | None = None
    secure_aggregation: SecureAggregation | None = None

    @model_validator(mode="after")
    def _settings_belong_to_strategy(self) -> TrainingPlan:
        allowed = STRATEGY_SETTINGS[self.strategy]
        for name in self.settings:
            if name not in allowed:
                known = ", ".join(sorted(allowed)) or "none"
                raise ValueError(
                    f"strategy {self.strategy.value} has no setting {name!r} (its settings: "
                    f"{known})"
                )
        secagg = self.secure_aggregation
        if secagg is not None and secagg.num_shares > self.min_sites:
            raise ValueError(
                f"secure_aggregation.num_shares ({secagg.num_shares}) is more than "
                f"min_sites ({self.min_sites})"
            )
        return self

    def run_config(self) -> dict[str, bool | int | float | str]:
        """The plan as Flower run configuration (the table in this module's docstring)."""
        config: dict[str, bool | int | float | str] = {
            "num-server-rounds": self.rounds,
            "strategy": self.strategy.value,
            "fraction-train": float(self.fraction_train),
            "min-nodes": self.min_sites,
            "local-epochs": self.local_epochs,
            "seed": self.seed,
        }
        config.update(self.settings)
        if self.differential_privacy is not None:
            dp = self.differential_privacy
            config["dp-noise-multiplier"] = float(dp.noise_multiplier)
            config["dp-clipping-norm"] = float(dp.clipping_norm)
            config["dp-delta"] = float(dp.delta)
        if self.secure_aggregation is not None:
            config["secagg-num-shares"] = self.secure_aggregation.num_shares
            config["secagg-reconstruction-threshold"] = (
                self.secure_aggregation.reconstruction_threshold
            )
        return config

    def privacy_lines(self) -> list[str]:
        """What a data owner is told of the plan's privacy settings, one line each."""
        lines = []
        dp = self.differential_privacy
        if dp is None:
            lines.append("differential privacy: off (model updates leave without added noise)")
        else:
            lines.append(
                f"differential privacy: on (client-side clipping at norm {dp.clipping_norm:g}, "
                f"noise multiplier {dp.noise_multiplier:g}, delta {dp.delta:g})"
            )
        secagg = self.secure_aggregation
        if secagg is None:
            lines.append("secure aggregation: off (the aggregator sees each site's update)")
        else:
            lines.append(
                f"secure aggregation: SecAgg+ ({secagg.num_shares} shares, any "
                f"{secagg.reconstruction_threshold} reconstruct)"
            )
        return lines


def plan_from_document(document: Any, source: str) -> TrainingPlan:
    """``document`` (parsed YAML or JSON) as a plan, or InvalidInput naming ``source`` and
    the first thing wrong, in one line."""
    if not isinstance(document, dict):
        raise InvalidInput(f"{source}: a training plan is a mapping of settings")
    try:
        return TrainingPlan.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "plan"
        message = re.sub(r"^Value error, ", "", first["msg"])
        if first["type"] == "enum":
            message = "unknown strategy; one of " + ", ".join(s.value for s in FlowerStrategy)
        raise InvalidInput(f"{source}: {where}: {message}") from None


def undeclared_keys(plan: TrainingPlan, declared: set[str]) -> list[str]:
    """The run-config keys the plan sets that an app does not declare (sorted)."""
    return sorted(key for key in plan.run_config() if key not in declared)
