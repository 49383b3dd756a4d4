"""Running a preparation cube's declared workflow on a dataset's raw data, case by case.

What is here: the durable state of every case and step (:mod:`.state`, one SQLite file in
the dataset's workspace folder), the folders each step reads and writes (:mod:`.case_folders`),
the run itself, per-case steps side by side up to ``jobs`` (:mod:`.workflow_run`) and how
far each step is (:mod:`.step_clock`), the other cubes steps pin, checked against the
server before anything runs (:mod:`.step_cubes`), the data owner's decisions on a case
(:mod:`.decisions`: retry, exclude, accept a review), the reviews waiting and the answers
that replace a file or exclude at a review (:mod:`.reviews`), and the counts of
``medval dataset status`` (:mod:`.progress_counts`). Recording each decision in the local
audit log is ``client.case_decisions``' (a use case both faces call).

Why its own scheduling and not a workflow engine: the hospital runs medval alone (no new
server or daemon, which Airflow, Prefect or Dagster would bring); the graph is a handful of
steps put in order once (``core.preparation_workflow``), and what must be right is the state
of each case, which SQLite keeps (:mod:`.state`). Why here and not a room of its own beside
``client``: it is the data owner's local work on the workspace, reached through
``client.execution`` and ``client.datasets`` like the rest of preparation.

It may import ``medval.core``, the standard library and ``medval.client.side_by_side``
(per-case steps up to ``jobs`` at once, worker threads around sandboxed processes, and
Ctrl-C stopping every sandbox without recording anything). The tasks it runs come in
through a seam (:class:`.workflow_run.TaskRunning`): ``client.execution`` gives one that runs
the pinned cube in the sandbox, tests give one that counts runs; a cube a step pins comes
in through :class:`.step_cubes.SiteCubes` and :class:`.step_cubes.CubeLookup` (the executor
and its client).
"""
