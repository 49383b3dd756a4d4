"""CLI tables come from the schemas: a record shows every field; list columns are checked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from medval.cli.render import columns, record_table, rows_table
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage

CUBE = CubePublic(
    id=7,
    name="tumour-net",
    kind=CubeKind.MODEL,
    archive_hash="a" * 64,
    owner_id=2,
    owner="vendor",
    stage=Stage.OPERATION,
    created_at=datetime(2024, 5, 1, tzinfo=UTC),
)


def _text(table: object) -> str:
    console = Console(width=400, record=True)
    console.print(table)
    return console.export_text()


def test_a_record_shows_every_field_of_its_schema() -> None:
    shown = _text(record_table(CUBE))
    for name in CubePublic.model_fields:
        assert name in shown
    assert "tumour-net" in shown and "vendor" in shown


def test_list_columns_must_be_fields_of_the_schema() -> None:
    assert columns(CubePublic, "id", "owner") == ["id", "owner"]
    with pytest.raises(ValueError, match="CubePublic has no field ownr"):
        columns(CubePublic, "id", "ownr")


def test_a_list_shows_its_chosen_columns_only() -> None:
    shown = _text(rows_table([CUBE], columns(CubePublic, "id", "name")))
    assert "tumour-net" in shown and "vendor" not in shown
