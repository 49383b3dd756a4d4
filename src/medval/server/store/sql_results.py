"""The SQL store's part for results, on ``SqlRows``, and what a leaderboard reads of them.

As in ``sql``: rows are made by name and read back as records. Two things more:

- ``leaderboard_rows`` reads a benchmark's results as the columns the leaderboard needs,
  not as ORM rows with every JSON column validated (a record's provenance, its owner's
  account): at 1,000 sites x 50 models, that read was most of a leaderboard's time.
- each benchmark's ``results_revision`` moves on with every change of what its board
  shows of its results: a result added or replaced, a model of them invalidated. The
  methods that make those changes mark the benchmark; ``move_results_revisions`` moves
  the marked ones on at the end of the transaction (``SqlStore.transaction``), so a
  change and its revision commit together. It runs just before the audit log's append,
  which every writing transaction ends with: the benchmark row's lock is held only from
  there to the commit, and taken before the audit head's, as every other transaction
  that changes a benchmark takes them. It is a plain UPDATE, not an audited change: the
  counter is no entity's field (no schema shows it), only a way to tell a kept board is
  current (``services.kept_boards``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, cast, select, update
from sqlalchemy.orm import Session

from medval.core.errors import Conflict, InvalidTransition
from medval.core.paging import Cursor
from medval.core.phases import ResultPublication, phase_open_at
from medval.core.result_schemas import ResultCreate
from medval.server.store import models as m
from medval.server.store.interface import Actor
from medval.server.store.phase_models import Phase
from medval.server.store.records import LeaderboardRow, ResultRecord
from medval.server.store.sql_rows import SqlRows, matching, paged


class SqlResultRows(SqlRows):
    def __init__(self, session: Session, actor: Actor) -> None:
        super().__init__(session, actor)
        self._changed_boards: set[int] = set()

    # --- results ----------------------------------------------------------------------

    def add_result(
        self,
        owner_id: int,
        result: ResultCreate,
        now: datetime,
        phase_id: int | None = None,
        publication: ResultPublication = ResultPublication.AUTOMATIC,
    ) -> ResultRecord:
        if phase_id is None:
            phase_id = self._open_phase_id(result.benchmark_id, now)
        row = m.Result(
            **dict(result),
            owner_id=owner_id,
            created_at=now,
            phase_id=phase_id,
            publication=publication,
        )
        what = "a result of this model on this dataset and benchmark"
        added = ResultRecord.model_validate(self._insert(row, what))
        self._changed_boards.add(added.benchmark_id)
        return added

    def _open_phase_id(self, benchmark_id: int, now: datetime) -> int:
        phases = self.session.scalars(select(Phase).where(Phase.benchmark_id == benchmark_id))
        found = phase_open_at(phases, now)
        if found is None:
            raise InvalidTransition(f"benchmark {benchmark_id} has no phase open now")
        return found.id

    def replace_result(
        self,
        result_id: int,
        owner_id: int,
        result: ResultCreate,
        now: datetime,
        publication: ResultPublication = ResultPublication.AUTOMATIC,
    ) -> ResultRecord:
        row = self._get(m.Result, result_id, "result")
        if (row.benchmark_id, row.dataset_id, row.model_id) != (
            result.benchmark_id,
            result.dataset_id,
            result.model_id,
        ):
            raise Conflict(f"result {result_id} is of another benchmark, dataset or model")
        self._changed_boards.add(row.benchmark_id)
        return self._change(
            ResultRecord, m.Result, result_id, "result", "replace",
            **dict(result), owner_id=owner_id, created_at=now, runs=row.runs + 1,
            publication=publication, publication_reason=None,
        )  # fmt: skip

    def result(self, result_id: int) -> ResultRecord | None:
        return self._find(ResultRecord, m.Result, result_id)

    def list_results(
        self,
        benchmark_id: int | None = None,
        dataset_id: int | None = None,
        model_id: int | None = None,
        *,
        phase_id: int | None = None,
        after: Cursor | None = None,
        limit: int | None = None,
    ) -> list[ResultRecord]:
        query = matching(
            select(m.Result),
            (m.Result.benchmark_id, benchmark_id),
            (m.Result.dataset_id, dataset_id),
            (m.Result.model_id, model_id),
            (m.Result.phase_id, phase_id),
        )
        return self._list(ResultRecord, paged(query, [m.Result.id], after, limit))

    # --- what the leaderboard reads ------------------------------------------------------

    def leaderboard_rows(
        self, benchmark_id: int, phase_id: int | None = None
    ) -> list[LeaderboardRow]:
        query = (
            select(
                m.Result.model_id,
                m.Cube.name,
                m.Result.dataset_id,
                m.Dataset.name,
                m.Dataset.owner_id,
                m.Cube.owner_id,
                cast(m.Result.document, Text),
            )
            .join(m.Dataset, m.Dataset.id == m.Result.dataset_id)
            .join(m.Cube, m.Cube.id == m.Result.model_id)
            .where(
                m.Result.benchmark_id == benchmark_id,
                m.Result.publication.in_([p for p in ResultPublication if p.shown]),
            )
            .order_by(m.Result.id)
        )
        if phase_id is not None:
            query = query.where(m.Result.phase_id == phase_id)
        return [
            LeaderboardRow(
                model_id=model_id,
                model=model,
                dataset_id=dataset_id,
                dataset=dataset,
                dataset_owner_id=dataset_owner_id,
                model_owner_id=model_owner_id,
                # A failed execution's document is SQL NULL, or JSON null as the column
                # type writes a None.
                document_json=text if text not in (None, "null") else None,
            )
            for model_id, model, dataset_id, dataset, dataset_owner_id, model_owner_id, text in (
                self.session.execute(query)
            )
        ]

    def results_revision(self, benchmark_id: int) -> int:
        found = self.session.scalar(
            select(m.Benchmark.results_revision).where(m.Benchmark.id == benchmark_id)
        )
        return found if found is not None else 0

    def _model_changed(self, model_id: int) -> None:
        """A model's row changed: the boards of every benchmark it has results on."""
        query = select(m.Result.benchmark_id).where(m.Result.model_id == model_id).distinct()
        self._changed_boards.update(self.session.scalars(query))

    def move_results_revisions(self) -> None:
        """Move on the revision of each benchmark whose board this transaction changed;
        in id order, so that two transactions never wait on each other's rows."""
        for benchmark_id in sorted(self._changed_boards):
            self.session.execute(
                update(m.Benchmark)
                .where(m.Benchmark.id == benchmark_id)
                .values(results_revision=m.Benchmark.results_revision + 1)
                .execution_options(synchronize_session=False)
            )
        self._changed_boards = set()
