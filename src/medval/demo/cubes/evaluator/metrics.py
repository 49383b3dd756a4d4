"""Site-level metrics of a risk model with 95% intervals; numpy and pandas only.

Every interval is analytic, so results are deterministic without a random seed:

- auroc: DeLong's variance (fast rank form, Sun & Xu 2014), Wald interval on the logit
  scale so that it stays inside (0, 1);
- sensitivity, specificity at ``threshold`` (risk >= threshold is positive): Wilson score;
- brier: mean squared error of the risk, normal interval with the sample SD of the
  squared errors;
- calibration_slope: b in logit P(y) = a + b * logit(p), Wald interval from the
  information matrix of the logistic fit (ideal 1);
- calibration_intercept: calibration-in-the-large, a in logit P(y) = a + offset(logit(p)),
  Wald interval (ideal 0);
- oe_ratio: observed / expected events, interval exp(log(O/E) +- z * sqrt((1 - O/N) / O))
  (Debray et al. 2017); without observed events, the value 0 has no interval.

A metric that is undefined on the site's data (AUROC with one class only, a logistic
fit that does not converge) is left out of the results rather than reported as NaN.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

Z = 1.959963984540054
CLIP = 1e-6  # predicted risks are clipped to [CLIP, 1 - CLIP] before taking logits


def _metric(value: float, lower: float | None = None, upper: float | None = None) -> dict:
    return {"value": float(value), "lower": lower, "upper": upper}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, CLIP, 1 - CLIP)
    return np.log(p / (1 - p))


def _expit(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def delong_auroc(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """AUROC and its DeLong standard error; needs both classes."""
    pos, neg = p[y == 1], p[y == 0]
    m, n = len(pos), len(neg)
    tz = pd.Series(np.concatenate([pos, neg])).rank(method="average").to_numpy()
    tx = pd.Series(pos).rank(method="average").to_numpy()
    ty = pd.Series(neg).rank(method="average").to_numpy()
    auc = (tz[:m].sum() - m * (m + 1) / 2) / (m * n)
    v10 = (tz[:m] - tx) / n  # per positive: share of negatives ranked below it
    v01 = 1 - (tz[m:] - ty) / m  # per negative: share of positives ranked above it
    var = (v10.var(ddof=1) if m > 1 else 0.0) / m + (v01.var(ddof=1) if n > 1 else 0.0) / n
    return float(auc), math.sqrt(max(var, 0.0))


def auroc_metric(y: np.ndarray, p: np.ndarray) -> dict:
    auc, se = delong_auroc(y, p)
    if 0 < auc < 1:
        half = Z * se / (auc * (1 - auc))
        centre = math.log(auc / (1 - auc))
        return _metric(auc, _expit(centre - half), _expit(centre + half))
    return _metric(auc, auc, auc)


def wilson(successes: int, n: int) -> dict:
    p = successes / n
    denominator = 1 + Z**2 / n
    centre = (p + Z**2 / (2 * n)) / denominator
    half = Z / denominator * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    # The Wilson interval always contains p; min/max only undo floating-point rounding.
    return _metric(p, max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half)))


def fit_logistic(
    y: np.ndarray, x: np.ndarray, offset: np.ndarray, max_iter: int = 50
) -> tuple[np.ndarray, np.ndarray] | None:
    """Newton-Raphson for logit P(y) = x @ beta + offset: (beta, covariance) or None."""
    beta = np.zeros(x.shape[1])

    def loglik(b: np.ndarray) -> float:
        eta = x @ b + offset
        return float(np.sum(y * eta - np.logaddexp(0, eta)))

    current = loglik(beta)
    for _ in range(max_iter):
        mu = 1 / (1 + np.exp(-(x @ beta + offset)))
        information = x.T @ (x * (mu * (1 - mu))[:, None])
        try:
            step = np.linalg.solve(information, x.T @ (y - mu))
        except np.linalg.LinAlgError:
            return None
        size = 1.0
        while size > 1e-8 and loglik(beta + size * step) < current - 1e-12:
            size /= 2  # step halving keeps the likelihood from decreasing
        beta = beta + size * step
        new = loglik(beta)
        converged = abs(new - current) < 1e-10 and np.max(np.abs(size * step)) < 1e-8
        current = new
        if converged:
            break
    else:
        return None
    mu = 1 / (1 + np.exp(-(x @ beta + offset)))
    information = x.T @ (x * (mu * (1 - mu))[:, None])
    try:
        covariance = np.linalg.inv(information)
    except np.linalg.LinAlgError:
        return None
    if not (np.all(np.isfinite(beta)) and np.all(np.isfinite(covariance))):
        return None
    return beta, covariance


def _wald(estimate: float, variance: float) -> dict:
    se = math.sqrt(max(variance, 0.0))
    return _metric(estimate, estimate - Z * se, estimate + Z * se)


def evaluate(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    """The results document: n_cases, n_positive and metrics with intervals, in the order
    tables show them (discrimination, then calibration)."""
    n, n_pos = len(y), int(y.sum())
    n_neg = n - n_pos
    metrics: dict[str, dict] = {}
    predicted = p >= threshold
    if n_pos and n_neg:
        metrics["auroc"] = auroc_metric(y, p)
    if n_pos:
        metrics["sensitivity"] = wilson(int(np.sum(predicted & (y == 1))), n_pos)
    if n_neg:
        metrics["specificity"] = wilson(int(np.sum(~predicted & (y == 0))), n_neg)
    lp = _logit(p)
    if n_pos and n_neg:
        slope = fit_logistic(y, np.column_stack([np.ones(n), lp]), np.zeros(n))
        if slope is not None:
            metrics["calibration_slope"] = _wald(float(slope[0][1]), float(slope[1][1, 1]))
    expected = float(p.sum())
    if expected > 0:
        ratio = n_pos / expected
        if n_pos:
            half = Z * math.sqrt((1 - n_pos / n) / n_pos)
            metrics["oe_ratio"] = _metric(ratio, ratio * math.exp(-half), ratio * math.exp(half))
        else:
            metrics["oe_ratio"] = _metric(0.0)
    squared = (p - y) ** 2
    se_brier = float(squared.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
    brier = float(squared.mean())
    metrics["brier"] = _metric(brier, brier - Z * se_brier, brier + Z * se_brier)
    if n_pos and n_neg:
        intercept = fit_logistic(y, np.ones((n, 1)), lp)
        if intercept is not None:
            metrics["calibration_intercept"] = _wald(
                float(intercept[0][0]), float(intercept[1][0, 0])
            )
    return {"n_cases": n, "n_positive": n_pos, "metrics": metrics}
