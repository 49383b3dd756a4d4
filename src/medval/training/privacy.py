"""The privacy a plan promises, in the numbers a data owner is shown before joining.

With differential privacy on, each round releases the aggregate of the sites' clipped
updates with Gaussian noise of ``noise_multiplier`` times the clipping norm: one Gaussian
mechanism per round, composed over the plan's rounds. Its (epsilon, delta) guarantee is
worked out by Google's ``dp-accounting`` (the library Flower's own accountant wraps), with
Renyi differential privacy and no amplification by sampling: every site may take part in
every round, so no sampling is counted in the guarantee's favour. Imports ``core`` only.
"""

from __future__ import annotations

from medval.core.training_plan import TrainingPlan


def epsilon(plan: TrainingPlan) -> float | None:
    """The plan's epsilon at its own delta, or None when differential privacy is off."""
    dp = plan.differential_privacy
    if dp is None:
        return None
    # Imported here: only a plan with differential privacy needs the accountant, and it
    # pulls in SciPy.
    import dp_accounting
    from dp_accounting.rdp import RdpAccountant

    accountant = RdpAccountant()
    accountant.compose(dp_accounting.GaussianDpEvent(float(dp.noise_multiplier)), plan.rounds)
    return float(accountant.get_epsilon(dp.delta))


def privacy_lines(plan: TrainingPlan) -> list[str]:
    """The plan's privacy settings as a data owner reads them, epsilon included."""
    lines = plan.privacy_lines()
    spent = epsilon(plan)
    if spent is not None and plan.differential_privacy is not None:
        lines[0] += (
            f"; over {plan.rounds} rounds: epsilon {spent:.3g} at delta "
            f"{plan.differential_privacy.delta:g}"
        )
    return lines
