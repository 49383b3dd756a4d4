"""Doors on the data owner's machine, through the real CLI: a dataset name or a result
key is never a path out of the workspace, and a file nested ten thousand deep is one
line, never a RecursionError."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from tests.e2e.conftest import Benchmark
from tests.e2e.people import Person, assert_clean_failure

pytestmark = [pytest.mark.e2e]

NAME_RULE = (
    "is not allowed: use 1 to 80 letters, digits, '.', '_' or '-', starting with a letter or digit"
)


@pytest.fixture
def victim(people: dict[str, Person]) -> Path:
    """A folder outside the workspace that ``datasets/../../victim`` would reach; its
    ``data`` and ``labels`` are what preparing a dataset of that name empties first."""
    home = people["hospital-a"].home
    folder = (home / "datasets" / ".." / ".." / "victim").resolve()
    assert not folder.is_relative_to(home)
    for part in ("data", "labels"):
        (folder / part).mkdir(parents=True, exist_ok=True)
        (folder / part / "records.csv").write_text("years of a hospital's work")
    return folder


def _survives(victim: Path) -> None:
    for part in ("data", "labels"):
        assert (victim / part / "records.csv").read_text() == "years of a hospital's work"


@pytest.mark.parametrize("name", ["../../victim", "..", "/tmp/victim", "a/b", ".hidden", ""])
def test_prepare_refuses_a_name_that_is_a_path(
    people: dict[str, Person], benchmark: Benchmark, victim: Path, tmp_path: Path, name: str
) -> None:
    raw = tmp_path / "raw"
    for part in ("data", "labels"):
        (raw / part).mkdir(parents=True)
    result = people["hospital-a"].medval(
        "dataset", "prepare", "--benchmark", str(benchmark.id), "--name", name,
        "--data-path", str(raw / "data"), "--labels-path", str(raw / "labels"),
    )  # fmt: skip
    assert_clean_failure(result, 2, f"error: dataset name {name!r} {NAME_RULE}")
    _survives(victim)
    assert not (people["hospital-a"].home / "datasets").exists()


@pytest.mark.parametrize(
    "command",
    [
        ("dataset", "register", "../../victim", "--yes"),
        ("dataset", "associate", "../../victim", "--yes"),
        ("dataset", "export", "../../victim", "out.tar.gz"),
    ],
)
def test_every_dataset_command_refuses_a_name_that_is_a_path(
    people: dict[str, Person], victim: Path, command: tuple[str, ...]
) -> None:
    result = people["hospital-a"].medval(*command)
    assert_clean_failure(result, 2, f"error: dataset name '../../victim' {NAME_RULE}")
    _survives(victim)


def test_a_result_key_that_is_a_path_is_refused(people: dict[str, Person], victim: Path) -> None:
    (victim / "result.json").write_text("{}")
    result = people["hospital-a"].medval("results", "upload", "../../victim", "--yes")
    assert_clean_failure(
        result,
        2,
        "error: '../../victim' is not a result key (b<benchmark>-m<model>-d<dataset>); "
        "see 'medval results list --local'",
    )
    _survives(victim)


DEEP_YAML = "[" * 10_000
DEEP_JSON = "[" * 100_000


def test_a_deep_cube_spec_is_one_line(people: dict[str, Person], tmp_path: Path) -> None:
    cube = tmp_path / "deep-cube"
    cube.mkdir()
    (cube / "medval-cube.yaml").write_text(DEEP_YAML)
    result = people["vendor"].medval("model", "register", str(cube))
    assert_clean_failure(
        result,
        2,
        f"error: {cube / 'medval-cube.yaml'}: not valid YAML (nested deeper than 100 levels)",
    )


def test_a_deep_export_manifest_is_one_line(people: dict[str, Person], tmp_path: Path) -> None:
    archive = tmp_path / "deep.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = DEEP_JSON.encode()
        member = tarfile.TarInfo("medval-export.json")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    result = people["hospital-b"].medval("dataset", "import", str(archive))
    assert_clean_failure(
        result,
        2,
        f"error: {archive} is not a medval dataset export: medval-export.json is damaged "
        "(NestedTooDeep)",
    )


def test_deep_local_records_are_one_line(tmp_path: Path) -> None:
    person = Person("nobody", tmp_path / "home", "http://127.0.0.1:9")
    result_json = person.home / "results" / "b1-m2-d3" / "result.json"
    result_json.parent.mkdir(parents=True)
    result_json.write_text(DEEP_JSON)
    listed = person.medval("results", "list", "--local")
    assert_clean_failure(
        listed, 2, f"error: {result_json} is damaged (NestedTooDeep); remove it to start over"
    )

    (person.home / "credentials.json").write_text(DEEP_JSON)
    listed = person.medval("dataset", "list")
    assert_clean_failure(
        listed,
        2,
        f"error: {person.home / 'credentials.json'} is damaged; run 'medval logout' and log in "
        "again",
    )
