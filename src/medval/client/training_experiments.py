"""Training experiments from the client's side: the plan read from a file, the training
cube's Flower app checked against it, the experiment registered, found and decided.
Every face calls these.

Before an experiment is registered, the training cube (as registered: fetched, verified,
unpacked) must declare every run-config key the plan sets in its ``pyproject.toml``
(``core.training_plan.undeclared_keys``): a key it does not declare is a setting the
app would never read. Nothing is registered when one is missing.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from medval.client.aggregators import find_aggregator, is_name
from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.training_cubes import unpacked_training_cube
from medval.core.errors import InvalidInput, NotFound, describe_problems
from medval.core.flower_app import FlowerApp
from medval.core.membership_schemas import AutoApprovalRule
from medval.core.nesting import NestedTooDeep, load_yaml
from medval.core.syntax_errors import yaml_problem
from medval.core.training_plan import TrainingPlan, plan_from_document, undeclared_keys
from medval.core.training_schemas import TrainingExperimentCreate, TrainingExperimentPublic


def read_plan(path: Path) -> TrainingPlan:
    """A training plan from a YAML (or JSON) file; anything wrong is one line naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"plan file {path} does not exist") from None
    except UnicodeDecodeError:
        raise InvalidInput(f"plan file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise InvalidInput(f"cannot read plan file {path}: {exc.strerror}") from None
    try:
        document = load_yaml(text)
    except NestedTooDeep as exc:
        raise InvalidInput(f"{path}: not valid YAML ({exc})") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
    return plan_from_document(document, str(path))


def check_app_reads_plan(app: FlowerApp, plan: TrainingPlan, cube: str) -> None:
    """Every run-config key the plan sets is declared by the app, else one line naming
    the missing keys."""
    missing = undeclared_keys(plan, app.declared_keys)
    if missing:
        them = "it" if len(missing) == 1 else "them"
        raise InvalidInput(
            f"training cube {cube} does not declare {', '.join(missing)} in "
            f"[tool.flwr.app.config] of its pyproject.toml; the plan sets {them}"
        )


def register_experiment(
    executor: Executor,
    *,
    name: str,
    description: str,
    data_preparator_id: int,
    training_cube_id: int,
    plan: TrainingPlan,
    aggregator: str,
    auto_approval: AutoApprovalRule | None = None,
) -> TrainingExperimentPublic:
    """Check the training cube against the plan, then submit the experiment (pending
    an admin's approval); ``aggregator`` is its name or id."""
    client = executor.client
    found = find_aggregator(client, aggregator)
    try:
        body = TrainingExperimentCreate(
            name=name,
            description=description,
            data_preparator_id=data_preparator_id,
            training_cube_id=training_cube_id,
            plan=plan,
            aggregator_id=found.id,
            auto_approval=auto_approval or AutoApprovalRule(),
        )
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None
    cube = client.cube(training_cube_id)
    with unpacked_training_cube(executor, cube) as (_, app):
        check_app_reads_plan(app, plan, cube.name)
    return client.training.register_experiment(body)


def find_experiment(client: MedvalClient, reference: str) -> TrainingExperimentPublic:
    """The experiment named ``reference``, or the one with that id (digits)."""
    found = client.training.experiments(name=reference) if is_name(reference) else []
    if found:
        return found[0]
    if reference.isdigit():
        return client.training.experiment(int(reference))
    raise NotFound(f"no training experiment named {reference!r} that you can see")
