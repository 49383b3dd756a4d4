"""Registering what a benchmark owner or a model owner ships: cubes and demo data.

Both travel as deterministic archives, uploaded once as content-addressed blobs and
pinned by their hash. A cube is a folder, or its parts given the MedPerf way (a container
config, a parameters file, an additional-files tarball: :mod:`medval.client.cube_parts`),
packed alike. A cube whose spec names a container image also ships the image: its
archive (``docker save`` / ``podman save`` of exactly that image, or one the author saved
before, which must hold the image the spec names) is uploaded as a blob, and the image's
ID is registered with its hash. MedPerf's ``container_type: DockerArchive`` names that
archive itself. What the spec declares that medval does not honour is said, one line
each, before anything is uploaded. A Flower app folder is a training cube
(:mod:`medval.client.training_cubes`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from medval.client.cube_parts import CubeParts, assembled, check_additional_files
from medval.client.execution import Executor
from medval.client.http import MedvalClient
from medval.client.private_models import (
    Privately,
    Sealer,
    image_sealed_line,
    private_line,
)
from medval.client.training_cubes import is_training_cube_folder, register_training_cube
from medval.core import demo_data
from medval.core.cube_spec import CubeSpec, load_cube_spec
from medval.core.declaration_files import declarations_text
from medval.core.declarations import SubgroupDeclaration, inferred_metrics
from medval.core.declared_results import declared_document, undeclared_line
from medval.core.document_mapping import ReadDocument
from medval.core.documents import ResultDocument
from medval.core.errors import InvalidInput
from medval.core.formats.mapping import check_additional_source
from medval.core.gpus import gpu_lines
from medval.core.hashing import pack_directory, sha256_bytes, sha256_file, unpack_archive
from medval.core.hub_pins import HubPin
from medval.core.python_environment import check_wheels
from medval.core.schemas import BenchmarkCreate, BenchmarkPublic, CubeCreate, CubePublic
from medval.core.scratch import scratch_folder
from medval.core.states import CubeKind, Stage
from medval.runner.image_archive import archive_image_id, check_archive_holds, save_image

Say = Callable[[str], None]


@dataclass(frozen=True)
class PackedCube:
    spec: CubeSpec
    archive: bytes
    sha256: str


def pack_cube(folder: Path, kind: CubeKind | None = None) -> PackedCube:
    """Validate a cube folder and pack it whole; the hash is what the server will pin.

    The folder may be in medval's format, MLCube's or MedPerf's: the archive holds it
    as it is (spec, parameters, additional files), so the hash covers all of them; a
    DockerArchive's image archive inside it is left out (it is registered as the image).
    ``kind`` settles a container format whose tasks fit several kinds.
    """
    if not folder.is_dir():
        raise InvalidInput(f"cube folder {folder} does not exist")
    spec = load_cube_spec(folder, kind)
    check_cube_files(folder, spec)
    archive = pack_directory(folder, exclude=_image_inside(folder, spec))
    return PackedCube(spec, archive, sha256_bytes(archive))


def check_cube_files(folder: Path, spec: CubeSpec) -> None:
    """What only registration checks, reading whole files: that the additional-files
    archive unpacks and holds every input its tasks take from it; that every wheel of a
    declared Python environment is one the lock pins (the site checks them again)."""
    if spec.python_environment is not None:
        check_wheels(folder, spec.python_environment)
    if spec.additional_files is None:
        return
    if (folder / spec.additional_files).is_file():
        check_additional_files(folder / spec.additional_files)
    for task in spec.tasks.values():
        for point in task.mount_points or ():
            if point.source is not None and point.in_additional_files:
                what = f"{folder / spec.spec_file}: task {task.name!r} input {point.name!r}"
                check_additional_source(
                    folder, spec.additional_files, point.source, point.file_name is not None, what
                )


def _image_inside(folder: Path, spec: CubeSpec) -> frozenset[PurePosixPath]:
    """The DockerArchive image archive, when it lies inside the cube folder."""
    if not spec.image_is_archive or spec.image is None or _is_url(spec.image):
        return frozenset()
    path = (folder / spec.image).resolve()
    root = folder.resolve()
    if path.is_file() and path.is_relative_to(root):
        return frozenset({PurePosixPath(path.relative_to(root).as_posix())})
    return frozenset()


def _is_url(reference: str) -> bool:
    return "://" in reference or reference.startswith("synapse:")


@dataclass(frozen=True)
class PinnedImage:
    """A cube's image as it is registered: its ID and its archive's hash."""

    digest: str
    archive_hash: str


def register_cube(
    client: MedvalClient,
    cube: Path | CubeParts,
    *,
    name: str | None = None,
    expected_kind: CubeKind | None = None,
    stage: Stage = Stage.OPERATION,
    runner_kind: str = "local",
    image_archive: Path | None = None,
    say: Say | None = None,
    hub: HubPin | None = None,
    private: Privately | None = None,
) -> CubePublic:
    """Upload a cube (and its image, if its spec names one) and register it (``hub``:
    the hub repository it was read from, pinned: :mod:`medval.client.hub_models`;
    ``private``: a private model, its archive uploaded sealed only:
    :mod:`medval.client.private_models`).

    ``cube`` is a folder, or its parts given separately (assembled into one first). The
    image is saved from ``runner_kind``'s engine (or Docker, else Podman, when that is
    the local runner), unless ``image_archive`` is an archive saved before. ``say``
    hears, one line each, what the spec declares that medval does not honour.
    """
    if private is not None and expected_kind is not CubeKind.MODEL:
        raise InvalidInput("only a model cube can be private (medval model register --private)")
    if isinstance(cube, Path) and cube.is_dir() and is_training_cube_folder(cube, expected_kind):
        if private is not None:
            raise InvalidInput(f"{cube} is a training cube (a Flower app): it cannot be private")
        if image_archive is not None:
            raise InvalidInput(f"{cube} is a training cube (a Flower app): it takes no image")
        return register_training_cube(client, cube, name, stage)
    with ExitStack() as stack:
        if isinstance(cube, CubeParts):
            folder = stack.enter_context(assembled(cube))
            beside, label = cube.container_config.resolve().parent, cube.container_config
        else:
            folder = beside = label = cube
        packed = pack_cube(folder, expected_kind)
        if expected_kind is not None and packed.spec.kind != expected_kind:
            raise InvalidInput(
                f"{label} is a {packed.spec.kind.value} cube, not a {expected_kind.value} cube"
            )
        lines = unhonoured_lines(packed.spec)
        if private is not None and packed.spec.image is not None:
            lines.append(image_sealed_line(name or packed.spec.name))
        for line in lines:
            if say is not None:
                say(line)
        sealer = None
        if private is not None:  # nothing of it in clear leaves this machine
            sealer = Sealer(client, private)
            sealer.seal_archive(packed.archive, packed.sha256)
        image = upload_image(client, packed.spec, runner_kind, image_archive, beside, sealer)
        if sealer is None:
            client.upload_blob(packed.sha256, packed.archive)
            sealed = None
        else:
            sealed = sealer.upload_archive(packed.spec.gpu)
    body = CubeCreate(
        name=name or packed.spec.name,
        kind=packed.spec.kind,
        archive_hash=packed.sha256,
        stage=stage,
        image_digest=image.digest if image else None,
        image_archive_hash=image.archive_hash if image else None,
        hub=hub,
        sealed=sealed,
    )
    return client.register_cube(body)


def upload_image(
    client: MedvalClient,
    spec: CubeSpec,
    runner_kind: str,
    image_archive: Path | None,
    beside: Path | None = None,
    sealer: Sealer | None = None,
) -> PinnedImage | None:
    """Pin and upload the cube's image (a private model's, sealed by ``sealer``); None
    for a cube without one.

    ``beside`` is where a DockerArchive's relative ``image`` path starts (the folder of
    the spec as the author has it).
    """
    if spec.image is None:
        if image_archive is not None:
            raise InvalidInput(
                f"cube {spec.name} names no image in its spec; --image-archive is for cubes "
                "with an 'image'"
            )
        return None
    if spec.image_is_archive:
        archive = image_archive or _named_archive(spec, beside)
        if not archive.is_file():
            raise InvalidInput(f"image archive {archive} does not exist")
        return _upload_archive(client, archive, archive_image_id(archive), sealer)
    if image_archive is not None:
        if not image_archive.is_file():
            raise InvalidInput(f"image archive {image_archive} does not exist")
        image_id = archive_image_id(image_archive)
        check_archive_holds(image_archive, image_id, spec.image)
        return _upload_archive(client, image_archive, image_id, sealer)
    from medval.runner.registry import image_engine  # every runner: only when saving

    engine = image_engine(runner_kind, f"the image {spec.image} of cube {spec.name}")
    # Named by this process, so that a command killed during the upload does not leave
    # the saved image (gigabytes) in the temporary folder for good: core.scratch.
    with scratch_folder("medval-image-") as scratch:
        archive = scratch / "image.tar"
        digest = save_image(engine, spec.image, archive)
        return _upload_archive(client, archive, digest, sealer)


def _named_archive(spec: CubeSpec, beside: Path | None) -> Path:
    """The archive a DockerArchive spec names, on this machine."""
    assert spec.image is not None
    if _is_url(spec.image) or beside is None:
        raise InvalidInput(
            f"cube {spec.name}: its image archive is {spec.image}, which medval does not "
            "download: give the archive with --image-archive PATH"
        )
    return beside / spec.image


def _upload_archive(
    client: MedvalClient, archive: Path, digest: str, sealer: Sealer | None
) -> PinnedImage:
    archive_hash = sha256_file(archive)
    if sealer is not None:
        sealer.upload_image(archive, archive_hash)
    else:
        client.upload_blob(archive_hash, archive, f"image archive {digest[:19]}…")  # streamed
    return PinnedImage(digest, archive_hash)


@dataclass(frozen=True)
class PackedDemoData:
    """A benchmark's demo data as it is uploaded and pinned."""

    archive: bytes
    sha256: str


def pack_demo_data(path: Path) -> PackedDemoData:
    """A benchmark's demo data, from a folder or a ``.tar.gz`` of one, in either layout
    (``data/`` and ``labels/``, or MedPerf's ``paths.yaml``; see :mod:`medval.core.demo_data`).

    A tarball is unpacked (safely) and packed again the way a folder is, so that the
    pinned archive does not depend on how it was made.
    """
    if path.is_dir():
        demo_data.locate(path)
        archive = pack_directory(path)
    elif path.is_file():
        with scratch_folder("medval-demo-data-") as scratch:
            folder = scratch / "demo-data"
            try:
                unpack_archive(path.read_bytes(), folder)
            except InvalidInput as exc:
                raise InvalidInput(f"demo data {path}: {exc.message}") from exc
            demo_data.locate(folder)
            archive = pack_directory(folder)
    else:
        raise InvalidInput(f"demo data {path} does not exist (a folder, or a .tar.gz of one)")
    return PackedDemoData(archive, sha256_bytes(archive))


def unhonoured_lines(spec: CubeSpec) -> list[str]:
    """Whether the cube uses a GPU (when it does), then what the spec declares that
    medval does not honour, one line each."""
    return gpu_lines(spec.gpu) + [
        f"note: {spec.spec_file}: medval does not honour {line}" for line in spec.unhonoured
    ]


def registered_notes(executor: Executor, cube: CubePublic) -> list[str]:
    """The same lines for a registered cube, read from its verified archive (a training
    cube, a Flower app, has no cube spec to read them from)."""
    if cube.kind is CubeKind.TRAINING:
        return []
    if cube.sealed is not None:  # never unsealed only to be shown
        return [private_line(cube), *gpu_lines(cube.sealed.gpu)]
    with executor.unpacked(cube, mirrored=False) as (_, spec):  # read, never run
        return unhonoured_lines(spec)


def register_benchmark(
    executor: Executor,
    body: BenchmarkCreate,
    demo: PackedDemoData,
    tested: Callable[[ReadDocument[ResultDocument]], None],
    say: Say,
) -> BenchmarkPublic:
    """The committee's benchmark: the compatibility test of its cubes on the demo data as
    it will be pinned (``tested`` sees the reference model's document), its document
    checked against the declared metrics (:func:`declaring`), then the demo data uploaded
    and the benchmark submitted for an admin's approval."""
    client = executor.client
    preparator = client.cube(body.data_preparator_id)
    reference = client.cube(body.reference_model_id)
    evaluator = client.cube(body.evaluator_id)
    with executor.unpacked_demo_data(demo.archive) as folder:
        read = executor.compatibility_test(
            preparator, reference, evaluator, folder, benchmark_k=body.min_cell_count
        )
    tested(read)
    small = {item.path for item in read.left_out if item.small_cell}
    body = declaring(body, read.document, say, small)
    client.upload_blob(demo.sha256, demo.archive)
    return client.register_benchmark(body)


SUBGROUPS_PREFIX = "subgroups."  # a small cell's path in a subgroup (core.subgroup_cells)


def inferred_subgroups(
    reference: ResultDocument, small_cells: Collection[str]
) -> list[SubgroupDeclaration]:
    """The subgroup variables the reference document reports, or had withheld on the demo
    data, in its order, labelled by name, any level allowed (none is known for sure)."""
    names = list(reference.subgroups or {})
    for path in sorted(small_cells):
        if path.startswith(SUBGROUPS_PREFIX):
            variable = path[len(SUBGROUPS_PREFIX) :].split(".", 1)[0]
            if variable not in names:
                names.append(variable)
    return [SubgroupDeclaration(name=name, label=name) for name in names]


def declaring(
    body: BenchmarkCreate, reference: ResultDocument, say: Say, small_cells: Collection[str] = ()
) -> BenchmarkCreate:
    """The benchmark with its declared metrics checked against the reference model's
    document on the demo data: a declared metric it lacks, or a value off its declared
    scale, is refused in one line (InvalidInput) before anything is uploaded; the metrics
    it reports but the benchmark does not declare are said in one line. Declaring none,
    the benchmark declares what the document reports, as inferred, and ``say`` hears it
    in a declarations file's form."""
    if not body.metrics:
        # A metric withheld on the demo data as a small cell is reported, too (the
        # counts n_cases and n_positive are no metrics, nor is a subgroup's level).
        withheld = (
            {path for path in small_cells if not path.startswith(SUBGROUPS_PREFIX)}
            - set(reference.metrics)
            - set(ResultDocument.model_fields)
        )
        reported = [*reference.metrics, *sorted(withheld)]
        update: dict[str, object] = {"metrics": inferred_metrics(reported)}
        if not body.subgroups:
            update["subgroups"] = inferred_subgroups(reference, small_cells)
        body = body.model_copy(update=update)
        say(
            "no --declarations: the benchmark declares the metrics (and subgroup variables) "
            "its evaluator reports, as inferred below; to declare them otherwise (labels, "
            "directions, scales, the primary metric, levels), register with --declarations "
            "FILE in this form:"
        )
        for line in declarations_text(body.metrics, body.subgroups).splitlines():
            say(line)
    what = "the reference model's results on the demo data"
    checked = declared_document(body.metrics, reference, what, small_cells)
    dropped = undeclared_line(checked.undeclared)
    if dropped is not None:
        say(dropped)
    return body
