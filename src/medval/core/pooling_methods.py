"""The names of the ways a metric is pooled across sites: shared vocabulary of the
leaderboard's schema (``core.result_schemas.PooledMetric``) and of ``medval.stats``.

Plain enums, no framework: ``core`` imports nothing above it. Each says itself in words
(``describe()``): the one place the faces (the CLI's leaderboard, the web page) take
them from.
"""

from __future__ import annotations

from enum import StrEnum


class PoolingModel(StrEnum):
    """What was pooled, and how."""

    # Counts (events of trials at each site): binomial-normal random-effects model.
    BINOMIAL_NORMAL = "binomial-normal"
    # The same model fitted to the counts each site's interval implies (a proportion
    # whose document lacks its counts): the Wilson interval's effective number of trials.
    BINOMIAL_NORMAL_EFFECTIVE = "binomial-normal-effective"
    # Each site's estimate with its interval: normal-normal (inverse-variance) random effects.
    INVERSE_VARIANCE = "inverse-variance"
    # No site had a usable interval: the unweighted mean on the pooling scale, no interval.
    UNWEIGHTED_MEAN = "unweighted-mean"
    # One site: its own estimate and interval.
    SINGLE_SITE = "single-site"

    def describe(self) -> str:
        """What was pooled, and how, in a reader's words."""
        return _MODEL_WORDS[self]


class TauSquaredMethod(StrEnum):
    """The estimator of the between-site variance tau² (inverse-variance pooling)."""

    DERSIMONIAN_LAIRD = "dersimonian-laird"
    PAULE_MANDEL = "paule-mandel"
    REML = "reml"

    def describe(self) -> str:
        """``tau² by Paule-Mandel``: the estimator, named as the literature names it."""
        return f"tau² by {_TAU_WORDS[self]}"


class IntervalMethod(StrEnum):
    """How the confidence interval of a pooled estimate is formed."""

    # Normal quantile, standard error from the random-effects weights.
    WALD = "wald"
    # Hartung-Knapp-Sidik-Jonkman: t with k-1 df, weighted residual variance.
    HARTUNG_KNAPP = "hartung-knapp"
    # Hartung-Knapp with its scale factor kept at least 1 (Röver, Knapp & Friede 2015),
    # so that sites that agree more than chance allows never narrow it below Wald's width
    # on the t scale; the default for fewer than ten sites.
    HARTUNG_KNAPP_MODIFIED = "hartung-knapp-modified"
    # Binomial-normal model: profile likelihood (chi²(1)), for 2 sites, and where no site
    # has an event (or every case is one).
    PROFILE_LIKELIHOOD = "profile-likelihood"
    # The same, each side's distance from the estimate scaled by Hartung and Knapp's
    # factor, t(k-1) / z x sqrt(Q / (k-1)) (Q of the sites' logits at the fit): the
    # default for 3 sites or more.
    PROFILE_LIKELIHOOD_HK = "profile-likelihood-hartung-knapp"

    def describe(self) -> str:
        """``Hartung-Knapp interval``: the confidence interval's method, named."""
        return _INTERVAL_WORDS[self]


# The words, kept apart from the classes (a plain attribute of an enum would be a member).
_MODEL_WORDS = {
    PoolingModel.BINOMIAL_NORMAL: "pooled from counts (binomial-normal)",
    PoolingModel.BINOMIAL_NORMAL_EFFECTIVE: (
        "pooled from the counts each site's interval implies (binomial-normal)"
    ),
    PoolingModel.INVERSE_VARIANCE: (
        "pooled from each site's estimate and interval (inverse-variance)"
    ),
    PoolingModel.UNWEIGHTED_MEAN: "unweighted mean of the sites (no site gave an interval)",
    PoolingModel.SINGLE_SITE: "one site's own estimate",
}
_TAU_WORDS = {
    TauSquaredMethod.DERSIMONIAN_LAIRD: "DerSimonian-Laird",
    TauSquaredMethod.PAULE_MANDEL: "Paule-Mandel",
    TauSquaredMethod.REML: "REML",
}
_INTERVAL_WORDS = {
    IntervalMethod.WALD: "Wald interval",
    IntervalMethod.HARTUNG_KNAPP: "Hartung-Knapp interval",
    IntervalMethod.HARTUNG_KNAPP_MODIFIED: "modified Hartung-Knapp interval",
    IntervalMethod.PROFILE_LIKELIHOOD: "profile-likelihood interval",
    IntervalMethod.PROFILE_LIKELIHOOD_HK: "Hartung-Knapp-scaled profile-likelihood interval",
}
