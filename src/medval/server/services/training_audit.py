"""Which audit entries about training a caller may read (``audit``): their aggregators,
the experiments they may see, the training associations they are party to, and the
rounds they may see (aggregated ones of visible experiments, their sites' own)."""

from __future__ import annotations

from medval.server.services.context import ServiceContext
from medval.server.services.training_associations import list_associations
from medval.server.services.training_experiments import list_experiments
from medval.server.services.training_rounds import list_site_rounds
from medval.server.store.records import UserRecord


def training_entities(ctx: ServiceContext, caller: UserRecord) -> set[tuple[str, str]]:
    experiments = list_experiments(ctx, caller, None).items
    seen = {("training", str(e.id)) for e in experiments}
    seen |= {
        ("training_association", str(a.id))
        for a in list_associations(ctx, caller, None, None, None).items
    }
    with ctx.store.transaction() as tx:
        seen |= {
            ("aggregator", str(a.id)) for a in tx.list_aggregators() if a.owner_id == caller.id
        }
        for experiment in experiments:
            seen |= {("training_round", str(r.id)) for r in tx.list_training_rounds(experiment.id)}
    for experiment in experiments:
        seen |= {
            ("site_training_round", str(r.id))
            for r in list_site_rounds(ctx, caller, experiment.id).items
        }
    return seen
