"""The names of the ways a metric is pooled across sites: shared vocabulary of the
leaderboard's schema (``core.result_schemas.PooledMetric``) and of ``medval.stats``.

Plain enums, no framework: ``core`` imports nothing above it.
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


class TauSquaredMethod(StrEnum):
    """The estimator of the between-site variance tau² (inverse-variance pooling)."""

    DERSIMONIAN_LAIRD = "dersimonian-laird"
    PAULE_MANDEL = "paule-mandel"
    REML = "reml"


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
    # Binomial-normal model: profile likelihood (chi²(1)), the default for 2 or 10+ sites.
    PROFILE_LIKELIHOOD = "profile-likelihood"
    # The same, each side's distance from the estimate widened by t(k-1) / z: the
    # Hartung-Knapp-like small-sample correction, the default for 3 to 9 sites.
    PROFILE_LIKELIHOOD_T = "profile-likelihood-t"
