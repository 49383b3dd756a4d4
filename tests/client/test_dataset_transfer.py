"""Export and import of a prepared dataset with its local results: the round trip, and
every refusal leaving the receiving workspace as it was."""

from __future__ import annotations

import gzip
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medval.client.dataset_transfer import (
    MANIFEST,
    export_dataset,
    install,
    staged_import,
)
from medval.client.workspace import LocalDataset, LocalResult, Workspace
from medval.core.documents import DatasetStatistics, Provenance, ResultDocument
from medval.core.errors import Conflict, HashMismatch, InvalidInput
from medval.core.hashing import pack_trees, tree_hash


def _prepared(home: Path, name: str = "site-a", server_id: int | None = 7) -> LocalDataset:
    workspace = Workspace(home)
    folder = workspace.dataset_dir(name)
    (folder / "data" / "nested").mkdir(parents=True)
    (folder / "data" / "nested" / "cases.csv").write_text("case,x\n1,0.5\n")
    (folder / "labels").mkdir()
    (folder / "labels" / "outcomes.csv").write_text("case,y\n1,1\n")
    (folder / "statistics").mkdir()
    (folder / "statistics" / "statistics.json").write_text('{"n_cases": 1, "values": {}}')
    dataset = LocalDataset(
        name=name,
        benchmark_id=1,
        data_preparator_id=2,
        data_preparator_hash="p" * 64,
        raw_data_path="/raw/data",
        raw_labels_path="/raw/labels",
        data_hash=tree_hash(folder / "data", folder / "labels"),
        statistics=DatasetStatistics(n_cases=1, values={}),
        prepared_at=datetime(2024, 5, 1, tzinfo=UTC),
        server_id=server_id,
    )
    workspace.save_dataset(dataset)
    return dataset


def _result(home: Path, dataset: LocalDataset, model_id: int, uploaded: bool) -> LocalResult:
    workspace = Workspace(home)
    assert dataset.server_id is not None
    result = LocalResult(
        benchmark_id=1,
        dataset_id=dataset.server_id,
        dataset=dataset.name,
        model_id=model_id,
        model=f"m{model_id}",
        document=ResultDocument(n_cases=1, n_positive=1, metrics={}),
        provenance=Provenance(
            dataset_hash=dataset.data_hash,
            data_preparator_hash="p" * 64,
            model_hash="m" * 64,
            evaluator_hash="e" * 64,
        ),
        executed_at=datetime(2024, 5, 2, tzinfo=UTC),
        uploaded_at=datetime(2024, 5, 3, tzinfo=UTC) if uploaded else None,
        server_id=40 + model_id if uploaded else None,
    )
    workspace.save_result(result)
    predictions = workspace.result_dir(result.key) / "predictions"
    predictions.mkdir()
    (predictions / "predictions.csv").write_text(f"case,p\n1,0.{model_id}\n")
    return result


def _everything(home: Path) -> dict[str, bytes]:
    """Every file under a home but the scratch area, for 'nothing changed' checks."""
    return {
        str(p.relative_to(home)): p.read_bytes()
        for p in sorted(home.rglob("*"))
        if p.is_file() and "scratch" not in p.relative_to(home).parts
    }


def _import(home: Path, archive: Path, replace: bool = False) -> None:
    workspace = Workspace(home)
    with staged_import(workspace, archive) as staged:
        install(workspace, staged, replace)


@pytest.fixture
def exported(tmp_path: Path) -> tuple[Path, LocalDataset, list[LocalResult]]:
    home = tmp_path / "first"
    dataset = _prepared(home)
    results = [_result(home, dataset, 3, uploaded=True), _result(home, dataset, 5, uploaded=False)]
    _result(home, _prepared(home, "site-b", server_id=8), 3, uploaded=False)  # not exported
    archive = tmp_path / "site-a.tar.gz"
    done = export_dataset(Workspace(home), "site-a", archive)
    assert done.path == archive and done.size == archive.stat().st_size
    assert [r.key for r in done.results] == [r.key for r in results]
    return archive, dataset, results


def test_the_round_trip_brings_the_dataset_and_its_results(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    archive, dataset, results = exported
    second = tmp_path / "second"
    _import(second, archive)
    workspace = Workspace(second)
    assert workspace.datasets() == [dataset]
    assert workspace.results() == results  # upload state included
    first = _everything(tmp_path / "first")
    copied = _everything(second)
    assert {k: v for k, v in first.items() if "site-b" not in k and "-d8" not in k} == copied
    folder = workspace.dataset_dir("site-a")
    assert tree_hash(folder / "data", folder / "labels") == dataset.data_hash
    assert not any((second / "scratch").iterdir())  # the staging folder is gone
    for path in [workspace.results_dir, *workspace.results_dir.rglob("*")]:  # owner-only
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def test_the_archive_holds_no_raw_data_and_is_deterministic(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    archive, _, results = exported
    with tarfile.open(archive, "r:gz") as tar:
        names = {m.name for m in tar.getmembers()}
    assert MANIFEST in names
    assert "dataset/data/nested/cases.csv" in names and "dataset/labels/outcomes.csv" in names
    assert f"results/{results[1].key}/predictions/predictions.csv" in names
    assert not any(n.endswith("result.json") or n.endswith("dataset.json") for n in names)
    again = tmp_path / "again.tar.gz"
    export_dataset(Workspace(tmp_path / "first"), "site-a", again)
    assert again.read_bytes() == archive.read_bytes()


def test_export_refuses_an_existing_file_and_changed_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _prepared(home)
    existing = tmp_path / "there.tar.gz"
    existing.write_bytes(b"keep me")
    with pytest.raises(Conflict, match="already exists; name a new file"):
        export_dataset(Workspace(home), "site-a", existing)
    assert existing.read_bytes() == b"keep me"
    (Workspace(home).dataset_dir("site-a") / "labels" / "outcomes.csv").write_text("tampered")
    with pytest.raises(HashMismatch, match="prepare it again before exporting"):
        export_dataset(Workspace(home), "site-a", tmp_path / "new.tar.gz")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "there.tar.gz"]


def test_a_truncated_archive_is_refused_and_nothing_is_stored(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    archive = exported[0]
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    second = tmp_path / "second"
    other = _prepared(second, "site-z", server_id=99)
    before = _everything(second)
    with pytest.raises(InvalidInput, match="is not a medval dataset export: not a valid archive"):
        _import(second, broken)
    assert _everything(second) == before
    assert Workspace(second).datasets() == [other]
    assert not any((second / "scratch").iterdir())


def _repack(archive: Path, out: Path, change: dict[str, bytes]) -> None:
    """The same archive with some members' content changed (or added)."""
    unpacked = out.parent / "unpacked"
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = unpacked / member.name
            if member.isdir():
                target.mkdir(parents=True, exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None
                target.write_bytes(source.read())
    for name, data in change.items():
        (unpacked / name).parent.mkdir(parents=True, exist_ok=True)
        (unpacked / name).write_bytes(data)
    with out.open("wb") as handle:
        pack_trees([("", unpacked)], handle)


def test_data_that_does_not_match_its_hash_is_refused(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    tampered = tmp_path / "tampered.tar.gz"
    _repack(exported[0], tampered, {"dataset/labels/outcomes.csv": b"case,y\n1,0\n"})
    second = tmp_path / "second"
    with pytest.raises(HashMismatch) as caught:
        _import(second, tampered)
    assert caught.value.message.startswith(f"the prepared data in {tampered} does not match")
    assert caught.value.message.endswith("; nothing was imported")
    assert _everything(second) == {}


def test_members_the_manifest_does_not_name_are_refused(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    extra = tmp_path / "extra.tar.gz"
    _repack(exported[0], extra, {"raw/patients.csv": b"id\n1\n"})
    with pytest.raises(InvalidInput, match="holds what its manifest does not: raw"):
        _import(tmp_path / "second", extra)
    bad = tmp_path / "bad.tar.gz"
    _repack(exported[0], bad, {MANIFEST: b'{"format": 2}'})
    with pytest.raises(InvalidInput, match=f"{MANIFEST} is damaged"):
        _import(tmp_path / "second", bad)
    not_tar = tmp_path / "notes.tar.gz"
    with not_tar.open("wb") as handle, gzip.GzipFile(fileobj=handle, mode="wb") as zipped:
        zipped.write(b"just text")
    with pytest.raises(InvalidInput, match="is not a medval dataset export"):
        _import(tmp_path / "second", not_tar)
    with pytest.raises(InvalidInput, match="is not a file"):
        _import(tmp_path / "second", tmp_path / "missing.tar.gz")


def test_an_existing_dataset_is_kept_unless_replace_and_an_upload_is_never_undone(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    archive, dataset, (sent, unsent) = exported
    second = tmp_path / "second"
    _import(second, archive)
    # On the second machine the unsent result is uploaded; the old archive comes back.
    workspace = Workspace(second)
    uploaded_here = workspace.mark_uploaded(unsent, 99)
    (workspace.dataset_dir("site-a") / "data" / "local-note.txt").write_text("mine")
    before = _everything(second)
    with pytest.raises(Conflict, match="pass --replace to overwrite it; nothing was imported"):
        _import(second, archive)
    assert _everything(second) == before
    workspace = Workspace(second)
    with staged_import(workspace, archive) as staged:
        imported = install(workspace, staged, replace=True)
    assert imported.kept == [uploaded_here] and imported.results == [sent]
    assert workspace.result(unsent.key) == uploaded_here
    assert not (workspace.dataset_dir("site-a") / "data" / "local-note.txt").exists()
    assert workspace.datasets() == [dataset]


def test_a_failed_move_is_undone_whole(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    second = tmp_path / "second"
    second.mkdir()
    (second / "datasets").write_text("a file where the datasets folder goes")
    before = _everything(second)
    with pytest.raises(OSError):
        _import(second, exported[0])
    assert _everything(second) == before  # the results moved in first were moved out again
    assert not (second / "results").exists() or not any((second / "results").iterdir())


def test_a_dataset_registered_here_under_another_name_is_a_conflict(
    tmp_path: Path, exported: tuple[Path, LocalDataset, list[LocalResult]]
) -> None:
    second = tmp_path / "second"
    _prepared(second, "renamed", server_id=7)
    with pytest.raises(Conflict, match="dataset 7 is already here as 'renamed'"):
        _import(second, exported[0])
    assert [d.name for d in Workspace(second).datasets()] == ["renamed"]


def test_an_unregistered_dataset_travels_without_results(tmp_path: Path) -> None:
    home = tmp_path / "first"
    dataset = _prepared(home, server_id=None)
    archive = tmp_path / "draft.tar.gz"
    assert export_dataset(Workspace(home), "site-a", archive).results == []
    _import(tmp_path / "second", archive)
    assert Workspace(tmp_path / "second").datasets() == [dataset]
