"""Hub mirrors: the test mirror is what huggingface_hub itself reads; a revision resolves
to its commit; the site's check finds a missing revision, a missing file and a tampered
blob, each in one line, and changes nothing. (Registering and running through the CLI:
tests/e2e/test_hub_models.py.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import huggingface_hub
import pytest

from medval.client.hub_mirror import copy_snapshot, find_snapshot, require_mirror
from medval.client.hub_models import check_against_pin, mirrored_cube_archive
from medval.client.registration import pack_cube
from medval.core.errors import HashMismatch, InvalidInput, NotFound
from medval.core.hub_pins import HubPin, HubReference, parse_hub_reference
from medval.core.schemas import CubePublic
from medval.core.states import CubeKind, Stage
from medval.demo.train import LOGISTIC_MODEL, build_cube
from tests.hub_mirrors import blob_of, cube_repo, git_blob_sha1

REPO = "medval-demo/rfs5-logistic"


@pytest.fixture(scope="module")
def model_cube(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_cube(LOGISTIC_MODEL, tmp_path_factory.mktemp("cubes"))


@pytest.fixture
def mirror(tmp_path: Path, model_cube: Path) -> tuple[Path, str, dict[str, bytes]]:
    mirror = tmp_path / "hub-mirror"
    commit, files = cube_repo(mirror, REPO, model_cube, refs=("main", "v1.0"))
    return mirror, commit, files


def test_huggingface_hub_reads_the_test_mirror_as_its_own_cache(
    mirror: tuple[Path, str, dict[str, bytes]],
) -> None:
    folder, commit, files = mirror
    for revision in ("main", "v1.0", commit):
        found = huggingface_hub.snapshot_download(
            REPO, revision=revision, cache_dir=folder, local_files_only=True
        )
        snapshot = Path(found)
        assert snapshot == folder / "models--medval-demo--rfs5-logistic" / "snapshots" / commit
        read = {p.relative_to(snapshot).as_posix(): p.read_bytes() for p in snapshot.rglob("*")}
        assert {k: v for k, v in read.items() if not (snapshot / k).is_dir()} == files
    # The library's own cache scan finds the repository whole, with no layout warnings.
    scanned = huggingface_hub.scan_cache_dir(folder)
    assert scanned.warnings == []
    (repo,) = scanned.repos
    assert repo.repo_id == REPO and repo.repo_type == "model"
    (revision,) = repo.revisions
    assert revision.commit_hash == commit and revision.refs == frozenset({"main", "v1.0"})
    assert {f.file_name for f in revision.files} == {Path(p).name for p in files}
    # Blobs are named as the Hub's ETags: git's sha1 for git files, sha256 for LFS ones.
    assert blob_of(folder, REPO, commit, "infer.py").name == git_blob_sha1(files["infer.py"])
    assert len(blob_of(folder, REPO, commit, "weights.json").name) == 64


def test_a_branch_a_tag_and_the_commit_resolve_to_one_snapshot(
    mirror: tuple[Path, str, dict[str, bytes]],
) -> None:
    folder, commit, files = mirror
    for revision in ("main", "v1.0", commit):
        snapshot = find_snapshot(folder, HubReference(REPO, revision))
        assert snapshot.commit == commit
    copied = copy_snapshot(snapshot, folder.parent / "copy")
    assert set(copied) == set(files)
    assert not any(p.is_symlink() for p in (folder.parent / "copy").rglob("*"))


def test_what_is_not_in_the_mirror_is_one_line(
    mirror: tuple[Path, str, dict[str, bytes]], tmp_path: Path
) -> None:
    folder, _, _ = mirror
    with pytest.raises(NotFound) as missing_revision:
        find_snapshot(folder, HubReference(REPO, "v2.0"))
    assert missing_revision.value.message == (
        f"revision v2.0 of hub repository {REPO} is not in the mirror {folder}"
    )
    with pytest.raises(NotFound, match=r"^hub repository medval-demo/other is not in the mirror"):
        find_snapshot(folder, HubReference("medval-demo/other", "main"))
    commit = mirror[1]
    (folder / "models--medval-demo--rfs5-logistic" / "snapshots" / commit / "infer.py").unlink()
    with pytest.raises(NotFound, match=r"only partly in the mirror .*: download it again$"):
        find_snapshot(folder, HubReference(REPO, "main"))
    partial = find_snapshot(folder, HubReference(REPO, commit), partial_ok=True)
    assert partial.commit == commit
    with pytest.raises(InvalidInput, match=r"the hub mirror .* does not exist"):
        require_mirror(tmp_path / "nowhere", "--hub x/y@main")
    with pytest.raises(InvalidInput, match="no hub mirror is set; give --hub-mirror DIR or set"):
        require_mirror(None, "--hub x/y@main")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("medval-demo/model", "give REPO@REVISION"),
        ("@main", "give REPO@REVISION"),
        ("medval-demo/model@", "give REPO@REVISION"),
        ("a/b/c@main", "is not a repository id"),
        ("medval--demo/model@main", "is not a repository id"),
        ("medval-demo/model@ma in", "is not a revision"),
        ("medval-demo/model@../x", "is not a revision"),
    ],
)
def test_a_reference_that_does_not_parse(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_hub_reference(text)


def test_parsed_references() -> None:
    assert parse_hub_reference("org/model@main") == HubReference("org/model", "main")
    assert parse_hub_reference("model@v1.0") == HubReference("model", "v1.0")
    sha = "a" * 40
    assert parse_hub_reference(f"org/model@{sha}").is_commit


def _registered(folder: Path, commit: str, model_cube: Path) -> CubePublic:
    """The cube as the server would hold it after ``model register --hub``."""
    snapshot = find_snapshot(folder, HubReference(REPO, "main"))
    files = copy_snapshot(snapshot, folder.parent / "registered")
    packed = pack_cube(folder.parent / "registered", CubeKind.MODEL)
    pin = HubPin(repo=REPO, revision="main", commit=commit, files=files)
    return CubePublic.model_validate(
        {
            "id": 1,
            "name": "logistic",
            "kind": CubeKind.MODEL,
            "archive_hash": packed.sha256,
            "owner_id": 1,
            "owner": "vendor",
            "stage": Stage.OPERATION,
            "created_at": "2026-12-05T00:00:00Z",
            "hub": pin,
        }
    )


def test_the_site_packs_exactly_the_registered_archive(
    mirror: tuple[Path, str, dict[str, bytes]], model_cube: Path, tmp_path: Path
) -> None:
    folder, commit, _ = mirror
    cube = _registered(folder, commit, model_cube)
    archive = mirrored_cube_archive(folder, cube, tmp_path / "cache" / "cube.tar.gz")
    assert archive.is_file() and pack_cube(folder.parent / "registered").sha256 == cube.archive_hash


def test_a_tampered_blob_a_missing_file_and_a_missing_commit_stop_it(
    mirror: tuple[Path, str, dict[str, bytes]], model_cube: Path, tmp_path: Path
) -> None:
    folder, commit, files = mirror
    cube = _registered(folder, commit, model_cube)
    target = tmp_path / "cache" / "cube.tar.gz"
    blob = blob_of(folder, REPO, commit, "weights.json")
    blob.write_bytes(blob.read_bytes().replace(b"0", b"1", 1))
    with pytest.raises(HashMismatch) as tampered:
        mirrored_cube_archive(folder, cube, target)
    assert "weights.json in the mirror" in tampered.value.message
    assert "does not match its registered hash" in tampered.value.message
    assert "\n" not in tampered.value.message and not target.exists()
    assert blob.is_file()  # nothing in the mirror is removed

    assert cube.hub is not None
    copied = {path: cube.hub.files[path] for path in cube.hub.files if path != "infer.py"}
    with pytest.raises(NotFound, match=r"infer.py is missing from the mirror"):
        check_against_pin(copied, cube.hub, "model logistic", folder)
    with pytest.raises(HashMismatch, match=r"extra.txt in the mirror .* was never registered"):
        check_against_pin({**cube.hub.files, "extra.txt": "0" * 64}, cube.hub, "m", folder)

    moved = cube.model_copy(update={"hub": cube.hub.model_copy(update={"commit": "b" * 40})})
    with pytest.raises(NotFound, match=f"revision {'b' * 40} of hub repository {REPO} is not"):
        mirrored_cube_archive(folder, moved, target)
    assert len(files) == len(list((folder / "models--medval-demo--rfs5-logistic/blobs").iterdir()))


def test_the_cli_starts_without_huggingface_hub() -> None:
    """Only reading a mirror imports it: the model commands start as fast as before."""
    probe = (
        "import sys\n"
        "from medval.cli.main import main\n"
        "assert main(['model', 'register', '--help']) == 0\n"
        "assert main(['model', 'show', '--help']) == 0\n"
        "print('huggingface_hub' in sys.modules, 'medval.client.hub_mirror' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip().splitlines()[-1] == "False False"
