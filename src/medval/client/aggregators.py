"""Aggregators from the client's side: registered by name, address and port, and found
by name or id (as a user types them). Every face calls these."""

from __future__ import annotations

import re

from pydantic import ValidationError

from medval.client.http import MedvalClient
from medval.core.errors import InvalidInput, NotFound, describe_problems
from medval.core.schemas import NAME_PATTERN
from medval.core.training_schemas import AggregatorCreate, AggregatorPublic


def is_name(text: str) -> bool:
    """Whether ``text`` can be a registered name (else it is surely no name)."""
    return re.fullmatch(NAME_PATTERN, text) is not None


def register_aggregator(
    client: MedvalClient, name: str, address: str, port: int
) -> AggregatorPublic:
    try:
        body = AggregatorCreate(name=name, address=address, port=port)
    except ValidationError as exc:
        raise InvalidInput(describe_problems(exc.errors())) from None
    return client.training.register_aggregator(body)


def find_aggregator(client: MedvalClient, reference: str) -> AggregatorPublic:
    """The aggregator named ``reference``, or the one with that id (digits)."""
    found = client.training.aggregators(name=reference) if is_name(reference) else []
    if found:
        return found[0]
    if reference.isdigit():
        return client.training.aggregator(int(reference))
    raise NotFound(f"no aggregator named {reference!r}")
