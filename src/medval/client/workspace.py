"""The data owner's local workspace: prepared datasets, cached cubes, local results.

Everything here stays on the hospital's machine. Only what ``medval dataset register``
and ``medval results upload`` show and the data owner approves is ever sent.

Layout under the client's home::

    cubes/<sha256>.tar.gz                 cube archives, re-verified before every run
    cubes/<sha256>.image.tar              cube image archives, re-verified before every run
    cubes/<sha256>.sealed                 private models' archives, sealed (ciphertext only:
                                          unsealed in memory just before a task, never here)
    images/<image id hex>/rootfs, config.json   cube images unpacked for the local runner
    environments/<key>/                   cubes' Python environments, built from their wheels
                                          (or in the machine's shared folder, when
                                          ``MEDVAL_ENVIRONMENTS`` names one)
    datasets/<name>/dataset.json          local record (paths, hash, statistics, server id,
                                          what of the statistics file is left out)
    datasets/<name>/data, labels          the prepared data (output of the prep cube)
    datasets/<name>/statistics/           the statistics task's output (its file is read back)
    results/b<B>-m<M>-d<D>/result.json    a result (metrics, or a failure), provenance, upload
                                          state, what of the results file is left out (never sent)
    results/b<B>-m<M>-d<D>/predictions    per-case predictions: never leave this folder
    logs/<when>-<cube id>-<task>-<random>.log   the cube task logs
    logs/<when>-<cube id>-<task>-<random>.json  how long that task ran in its sandbox
                                          (``task_times``)
    audit/log.jsonl, head.json            the local audit log: every approval, execution and
                                          upload made here, hash-chained (``audit_log``)

A dataset's name is one safe path component (``core.schemas.check_name``) and a result's
key is ``b<B>-m<M>-d<D>``: anything else is refused before a path is made of it. The
results (``results/`` and everything in it) are owner-only (0700 folders, 0600 files),
whatever the umask (``core.private_files``).
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, Field, ValidationError, computed_field

from medval.client.settings import ClientSettings
from medval.core.document_mapping import LeftOut
from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.errors import InvalidInput, NotFound
from medval.core.nesting import load_json
from medval.core.private_files import make_tree_private, private_folder
from medval.core.schema_types import Name, check_name
from medval.core.scratch import MEMORY_BACKED, make_scratch, memory_backed_root, private_root
from medval.core.states import ExecutionStatus

M = TypeVar("M", bound=BaseModel)
SEALED_SUFFIX = ".sealed"  # a private model's archive in the cache: ciphertext only


class LocalDataset(BaseModel):
    name: Name
    benchmark_id: int
    data_preparator_id: int
    data_preparator_hash: str
    raw_data_path: str
    raw_labels_path: str
    data_hash: str
    statistics: DatasetStatistics
    # What the cube's statistics file held that is not sent: named in the review, kept here.
    left_out: list[LeftOut] = Field(default_factory=list)
    # The cases a preparation workflow left out, by name: named in the review before
    # registration, kept here (the statistics sent carry their counts only).
    excluded_cases: list[str] = Field(default_factory=list)
    set_aside_cases: list[str] = Field(default_factory=list)
    prepared_at: datetime
    server_id: int | None = None
    location: str = ""
    description: str = ""


class LocalResult(BaseModel):
    """A model's execution here: succeeded (``document``) or failed (``failure``, medval's
    one-line reason), kept until its data owner uploads it."""

    benchmark_id: int
    dataset_id: int
    dataset: str
    model_id: int
    model: str
    status: ExecutionStatus = ExecutionStatus.SUCCEEDED
    document: ResultDocument | None = None
    failure: str | None = None
    # What the evaluator's results file held that is not sent: named in the review only.
    left_out: list[LeftOut] = Field(default_factory=list)
    provenance: Provenance
    executed_at: datetime
    uploaded_at: datetime | None = None
    server_id: int | None = None

    @computed_field  # type: ignore[prop-decorator]  # in its JSON too, as the table shows it
    @property
    def key(self) -> str:
        return result_key(self.benchmark_id, self.model_id, self.dataset_id)


def result_key(benchmark_id: int, model_id: int, dataset_id: int) -> str:
    return f"b{benchmark_id}-m{model_id}-d{dataset_id}"


def check_result_key(key: str) -> str:
    """``key`` when it is a result's key (``b1-m2-d3``), else one line saying so."""
    if re.fullmatch(r"b[0-9]{1,19}-m[0-9]{1,19}-d[0-9]{1,19}", key) is None:
        raise InvalidInput(
            f"{key[:100]!r} is not a result key (b<benchmark>-m<model>-d<dataset>); "
            "see 'medval results list --local'"
        )
    return key


def write_json_atomically(path: Path, text: str) -> None:
    """Replace a file in one step, so an interrupted command never leaves half a record."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


class Workspace:
    """Files under one home folder; every path is derived here and nowhere else.

    ``shared_environments``: the machine's folder of cubes' Python environments, used by
    several workspaces (``MEDVAL_ENVIRONMENTS``), instead of this one's ``environments/``.
    """

    def __init__(self, home: Path, shared_environments: Path | None = None) -> None:
        self.home = home
        self.shared_environments = shared_environments

    @classmethod
    def of(cls, settings: ClientSettings) -> Workspace:
        """The workspace these settings name."""
        return cls(settings.home, settings.environments)

    # --- folders ------------------------------------------------------------------------

    @property
    def cubes_dir(self) -> Path:
        return self.home / "cubes"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def audit_dir(self) -> Path:
        return self.home / "audit"

    @property
    def images_dir(self) -> Path:
        """Cubes' own images, unpacked from their verified archives for the local runner."""
        return self.home / "images"

    @property
    def environments_dir(self) -> Path:
        """Cubes' own Python environments, built from their wheels, one per hash: the
        machine's shared folder (checked to be this account's alone, made if absent), else
        this workspace's own."""
        if self.shared_environments is None:
            return self.home / "environments"
        return shared_folder(self.shared_environments)

    def cube_archive(self, sha256: str) -> Path:
        return self.cubes_dir / f"{_hash_name(sha256)}.tar.gz"

    def image_archive(self, sha256: str) -> Path:
        """A cube's container image archive, re-verified before every run."""
        return self.cubes_dir / f"{_hash_name(sha256)}.image.tar"

    def sealed_image(self, sha256: str) -> Path:
        """A private model's sealed image archive (``client.private_models``), as
        downloaded: opened only in memory, just before its runs."""
        return self.cubes_dir / f"{_hash_name(sha256)}.image{SEALED_SUFFIX}"

    def sealed_archive(self, sha256: str) -> Path:
        """A private model's sealed archive (``client.private_models``), as downloaded."""
        return self.cubes_dir / f"{_hash_name(sha256)}{SEALED_SUFFIX}"

    def demo_data_dir(self, sha256: str) -> Path:
        """A benchmark's demo data, unpacked (its archive beside it, ``.tar.gz``)."""
        return self.home / "demo-data" / _hash_name(sha256)

    def dataset_dir(self, name: str) -> Path:
        """A dataset's folder; a name that is not one safe path component is refused."""
        return self.home / "datasets" / check_name(name, "dataset name")

    @property
    def results_dir(self) -> Path:
        return self.home / "results"

    def result_dir(self, key: str) -> Path:
        """A result's folder; anything but a result key is refused."""
        return self.results_dir / check_result_key(key)

    def result_folder(self, key: str) -> Path:
        """A result's folder, created owner-only (as is ``results/``) before anything is
        written in it."""
        private_folder(self.results_dir)
        return private_folder(self.result_dir(key))

    def make_result_private(self, key: str) -> None:
        """Everything in a result's folder (predictions, outputs) owner-only."""
        private_folder(self.results_dir)
        make_tree_private(self.result_dir(key))

    def new_task_log(self, cube_id: int, task: str) -> Path:
        """A new, empty log for one task run, named by when, which cube and which task
        (and a random tail: executions side by side may run one task in the same second)."""
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        prefix = f"{time.strftime('%Y%m%d-%H%M%S')}-{cube_id}-{task}-"
        fd, name = tempfile.mkstemp(dir=self.logs_dir, prefix=prefix, suffix=".log")
        os.close(fd)
        return Path(name)

    def scratch(self, prefix: str) -> Path:
        """A fresh folder for one task run's unpacked cube or intermediate output (what a
        killed command left of the same kind is removed first: ``core.scratch``)."""
        folder = make_scratch(self.home / "scratch", prefix)
        # Readable by a container's sandbox user: it holds public cube code and demo data.
        folder.chmod(0o755)
        return folder

    def private_scratch(self, prefix: str, memory_backed: Path = MEMORY_BACKED) -> Path:
        """A fresh folder for a private model unpacked in clear for one task: on a
        memory-backed file system when ``memory_backed`` is a writable one (a tmpfs),
        else in the workspace's scratch, inside a folder only this account may enter."""
        memory = memory_backed_root(memory_backed)
        root = private_root(memory, f"medval-private-{os.getuid()}") if memory else None
        if root is None:
            (self.home / "scratch").mkdir(parents=True, exist_ok=True)
            root = private_root(self.home / "scratch", "private")
        if root is None:
            raise InvalidInput(f"cannot make a folder only this account may enter in {self.home}")
        folder = make_scratch(root, prefix)
        # The sandbox user (run as root: nobody) reads the cube; its parent keeps others out.
        folder.chmod(0o755)
        return folder

    # --- datasets -----------------------------------------------------------------------

    def save_dataset(self, dataset: LocalDataset) -> None:
        path = self.dataset_dir(dataset.name) / "dataset.json"
        write_json_atomically(path, dataset.model_dump_json(indent=2))

    def dataset(self, name: str) -> LocalDataset:
        path = self.dataset_dir(name) / "dataset.json"
        if not path.is_file():
            raise NotFound(f"no prepared dataset named {name!r} here; run 'medval dataset prepare'")
        return _read(LocalDataset, path)

    def datasets(self) -> list[LocalDataset]:
        root = self.home / "datasets"
        paths = sorted(root.glob("*/dataset.json")) if root.is_dir() else []
        return [_read(LocalDataset, path) for path in paths]

    def dataset_by_server_id(self, server_id: int) -> LocalDataset | None:
        return next((d for d in self.datasets() if d.server_id == server_id), None)

    # --- results ------------------------------------------------------------------------

    def save_result(self, result: LocalResult) -> None:
        path = self.result_folder(result.key) / "result.json"
        write_json_atomically(path, result.model_dump_json(indent=2))  # mkstemp: 0600
        self.make_result_private(result.key)

    def result(self, key: str) -> LocalResult | None:
        path = self.result_dir(key) / "result.json"
        return _read(LocalResult, path) if path.is_file() else None

    def results(self) -> list[LocalResult]:
        root = self.home / "results"
        paths = sorted(root.glob("*/result.json")) if root.is_dir() else []
        return [_read(LocalResult, path) for path in paths]

    def mark_uploaded(self, result: LocalResult, server_id: int) -> LocalResult:
        done = result.model_copy(update={"uploaded_at": datetime.now(UTC), "server_id": server_id})
        self.save_result(done)
        return done


def _hash_name(sha256: str) -> str:
    """A hash the server sent, before a path is made of it (a server is not trusted to
    name the client's folders)."""
    if re.fullmatch(r"[0-9a-f]{64}", sha256) is None:
        raise InvalidInput(f"the server sent {sha256[:80]!r} where a sha256 belongs")
    return sha256


def _read(model: type[M], path: Path) -> M:
    try:
        return model.model_validate(load_json(path.read_text()))
    except (ValueError, ValidationError) as exc:
        raise InvalidInput(
            f"{path} is damaged ({exc.__class__.__name__}); remove it to start over"
        ) from exc


def shared_folder(path: Path) -> Path:
    """``path``, a folder several workspaces share (``MEDVAL_ENVIRONMENTS``), made if absent
    (readable by all: the sandbox's user reads the environments in it); refused in one line
    unless it is a folder of this account's that nobody else may write to. What is built in
    it decides what a cube computes, as a copy of the cache would: another user's folder,
    or one others could write to, could put their code in a model's place."""
    try:
        if not path.exists() and not path.is_symlink():
            path.mkdir(parents=True)
            path.chmod(0o755)  # whatever the umask
        found = path.stat()
    except OSError as exc:
        raise InvalidInput(
            f"cannot use the shared environments folder {path} (MEDVAL_ENVIRONMENTS): "
            f"{exc.strerror}"
        ) from None
    if not stat.S_ISDIR(found.st_mode):
        raise InvalidInput(
            f"the shared environments folder {path} (MEDVAL_ENVIRONMENTS) is not a folder"
        )
    if found.st_uid != os.geteuid():
        raise InvalidInput(
            f"the shared environments folder {path} (MEDVAL_ENVIRONMENTS) belongs to another "
            "user: medval builds and uses environments only in a folder of yours"
        )
    if found.st_mode & 0o022:
        raise InvalidInput(
            f"the shared environments folder {path} (MEDVAL_ENVIRONMENTS) may be written by "
            f"others (mode {stat.S_IMODE(found.st_mode):o}): run 'chmod go-w {path}' first"
        )
    return path
