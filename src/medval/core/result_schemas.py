"""The schemas of executions, results and leaderboards in the HTTP API: what a data owner
runs, signs and uploads, and what the leaderboard releases. Used by the server and the
client, as every schema in ``core.schemas``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from medval.core.declarations import MetricDeclaration
from medval.core.documents import MetricValue, Provenance, ResultDocument
from medval.core.membership_schemas import DataPolicy
from medval.core.phases import ResultPublication
from medval.core.pooling_methods import IntervalMethod, PoolingModel, TauSquaredMethod
from medval.core.schema_types import Id, Sha256
from medval.core.schema_types import Schema as _Schema
from medval.core.schemas import FailureReason, SignatureText
from medval.core.states import ExecutionStatus, ReleasePolicy

# --- executions and results -----------------------------------------------------------


class PendingExecution(_Schema):
    """An approved model on a benchmark, for a dataset of the caller's, with no result yet."""

    benchmark_id: Id
    benchmark: str
    dataset_id: Id
    dataset: str
    model_id: Id
    model: str
    model_owner: str
    model_hash: str
    # A failed execution is recorded on the server: it runs again only when asked to.
    failed: bool = False
    # The dataset's policy on this benchmark, and how many times this model has run on
    # it (results uploaded): the client refuses to run what the policy refuses.
    policy: DataPolicy = Field(default_factory=DataPolicy)
    runs: int = 0
    # The benchmark's phase open now, which the result will belong to (core.phases), and
    # its own evaluator (None: the benchmark's), which the execution must run.
    phase: str | None = None
    evaluator_id: int | None = None
    # The committee's priority of the model in the open phase (1: run first; None: after
    # those with one), and how many results the site may still upload today in the phase
    # (its daily quota; None: no limit): the client runs no more (core.quotas).
    priority: int | None = None
    quota_left: int | None = None


class ResultContent(_Schema):
    """A model's execution on a dataset: succeeded with its metrics (``document``), or
    failed with a one-line ``failure`` (medval's own verdict) and no metrics. Either way
    ``provenance`` names every artifact that ran. This is what the data owner signs."""

    benchmark_id: Id
    dataset_id: Id
    model_id: Id
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None = None
    failure: FailureReason | None = None
    provenance: Provenance
    executed_at: datetime | None = None

    @model_validator(mode="after")
    def _metrics_or_a_reason(self) -> ResultContent:
        if self.status is ExecutionStatus.SUCCEEDED:
            if self.document is None or self.failure is not None:
                raise ValueError("a succeeded result has a document and no failure")
        elif self.document is not None or self.failure is None:
            raise ValueError("a failed result has a failure and no document")
        return self


class ResultCreate(ResultContent):
    """An upload: the content, the uploader's Ed25519 signature over its canonical form
    (``medval.trust.signed_result``) and the id of the key that made it."""

    key_id: Sha256
    signature: SignatureText


class ResultPublic(_Schema):
    id: Id
    benchmark_id: Id
    dataset_id: Id
    dataset: str
    model_id: Id
    model: str
    owner: str
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None
    failure: str | None = None
    provenance: Provenance
    executed_at: datetime | None = None
    created_at: datetime
    runs: int = 1  # how many times it was uploaded (a failed one may be run again)
    # None only for results uploaded before results were signed.
    key_id: str | None = None
    signature: str | None = None
    # The phase it was uploaded in (core.phases), and where it stands in its publication:
    # a withheld result's reason is the committee's, for the model's owner.
    phase_id: int | None = None
    phase: str | None = None
    publication: ResultPublication = ResultPublication.AUTOMATIC
    publication_reason: str | None = None


class PooledMetric(_Schema):
    """A metric pooled across sites (random effects), with its interval and heterogeneity.

    How it was pooled (``medval.stats.pooling``): the model, the tau² estimator and the
    interval's method (None where they do not apply), and the 95% prediction interval for
    a new site (None for fewer than three sites, or where it is not defined).
    """

    value: float
    lower: float | None
    upper: float | None
    n_sites: int
    i_squared: float | None
    model: PoolingModel | None = None
    tau_squared_method: TauSquaredMethod | None = None
    interval_method: IntervalMethod | None = None
    prediction_lower: float | None = None
    prediction_upper: float | None = None

    def method_label(self) -> str:
        """``pooled from counts (binomial-normal), profile-likelihood interval``: how it was
        pooled, in the enums' own words (``describe()``); empty where nothing says."""
        methods = (self.model, self.tau_squared_method, self.interval_method)
        return ", ".join(method.describe() for method in methods if method is not None)

    def prediction_label(self) -> str:
        """``0.710 to 0.930``: the 95% prediction interval for a new site ("to", not a
        dash: a bound may be negative); empty where there is none (under three sites)."""
        if self.prediction_lower is None or self.prediction_upper is None:
            return ""
        return f"{self.prediction_lower:.3f} to {self.prediction_upper:.3f}"


class LeaderboardSite(_Schema):
    dataset_id: Id
    dataset: str
    n_cases: int | None  # None: the evaluator did not report it
    metrics: dict[str, MetricValue]


def rank_text(rank: int | None, tied: bool, lower: int | None, upper: int | None) -> str:
    """``1= (1-3)``: a displayed rank, "=" when tied, with its 95% rank interval
    (medval.stats.ranks), not repeated when it is a single rank; empty where there is no
    rank."""
    if rank is None:
        return ""
    shown = f"{rank}=" if tied else str(rank)
    if lower is None or upper is None or lower == upper:
        return shown
    return f"{shown} ({lower}-{upper})"


class LeaderboardEntry(_Schema):
    model_id: Id
    model: str
    model_owner: str
    n_sites: int  # sites whose execution succeeded (pooled)
    n_cases: int | None  # None: some site's evaluator did not report it
    n_failed: int = 0  # sites where it failed: counted, never pooled
    # How many entries (models with results in the phase) its owner made; this one is the
    # one that counts (core.quotas): the owner's choice, else its entry approved first.
    n_entries: int = 1
    # When the model was invalidated: its results stay on the board, marked so.
    model_invalidated_at: datetime | None = None
    pooled: dict[str, PooledMetric]
    # Empty where not released, or not asked for (LeaderboardPublic.with_sites).
    sites: list[LeaderboardSite] = Field(default_factory=list)
    # Why pooled figures (and others' sites) are not shown to this caller: fewer sites than
    # the benchmark's min_sites. None: released.
    withheld: str | None = None
    # Rank on the primary metric (medval.stats.ranks): the displayed rank, shared by a tier
    # of models that cannot be told apart (tied), and the 95% rank interval. None: no pooled
    # primary metric with an interval, or withheld.
    rank: int | None = None
    rank_lower: int | None = None
    rank_upper: int | None = None
    tied: bool = False
    p_first: float | None = None  # share of resamples in which it ranked first

    def rank_label(self) -> str:
        """``1= (1-3)``: the displayed rank ("=" when tied) and its 95% interval; empty
        where there is no rank (no pooled primary metric, or withheld)."""
        return rank_text(self.rank, self.tied, self.rank_lower, self.rank_upper)


class LeaderboardPublic(_Schema):
    benchmark_id: Id
    benchmark: str
    release_policy: ReleasePolicy
    # The benchmark's declared metrics, in the declared order (core.declarations); for a
    # benchmark that declares none, the evaluator's as inferred (empty: no result yet).
    declared: list[MetricDeclaration] = Field(default_factory=list)
    # The same metrics' names; the primary one ranks, in its declared direction.
    metrics: list[str]
    primary_metric: str | None
    higher_is_better: bool
    entries: list[LeaderboardEntry]
    # Whether each entry carries its sites released to the caller (asked for with
    # ``?sites=true``). False: every entry's ``sites`` is empty, not withheld.
    with_sites: bool = False
    # The phase it is the board of (core.phases). A closed phase's board is archived:
    # ``archived_hash`` is the sha256 of its canonical JSON (RFC 8785) as archived, that
    # is this document with ``archived_hash`` null; None while the phase is open.
    phase: str | None = None
    phase_closed_at: datetime | None = None
    archived_hash: str | None = None

    def label(self, name: str) -> str:
        """How the faces show metric ``name``: its declared label."""
        return next((m.label for m in self.declared if m.name == name), name)

    def primary_pooling(self) -> str:
        """How the primary metric was pooled, in words: once when every model's was pooled
        the same way, else each way with its models (``... for model-a, model-b; ...``);
        empty where no pooled figure says (no primary metric, every entry withheld)."""
        if self.primary_metric is None:
            return ""
        ways: dict[str, list[str]] = {}
        for entry in self.entries:
            pooled = entry.pooled.get(self.primary_metric)
            if pooled is not None and (way := pooled.method_label()):
                ways.setdefault(way, []).append(entry.model)
        if len(ways) == 1:
            return next(iter(ways))
        return "; ".join(f"{way} for {', '.join(models)}" for way, models in ways.items())
