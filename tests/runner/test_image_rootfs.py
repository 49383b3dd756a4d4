"""Unpacking an image's root filesystem from a hand-built ``docker save`` archive."""

from __future__ import annotations

import io
import stat
import tarfile
from pathlib import Path

import pytest

from medval.core.errors import HashMismatch, InvalidInput
from medval.runner.image_rootfs import ImageConfig, ImageStore

from .tiny_image import archive_id, image_archive


def member(name: str, kind: bytes = tarfile.REGTYPE, **fields: object) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    for field, value in fields.items():
        setattr(info, field, value)
    return info


def layer(*entries: tarfile.TarInfo | tuple[str, bytes]) -> bytes:
    """A layer tar: a (name, content) pair is a file, a TarInfo anything else."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if isinstance(entry, tuple):
                info = member(entry[0], size=len(entry[1]))
                tar.addfile(info, io.BytesIO(entry[1]))
            else:
                tar.addfile(entry)
    return buffer.getvalue()


def unpack(tmp_path: Path, *layers: bytes, config: dict[str, object] | None = None) -> Path:
    archive = image_archive(list(layers), config)
    path = tmp_path / "image.tar"
    path.write_bytes(archive)
    return ImageStore(tmp_path / "images").unpack(path, archive_id(archive), "cube c").rootfs


def listing(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def test_files_folders_and_links_are_unpacked_as_the_layer_says(tmp_path: Path) -> None:
    rootfs = unpack(
        tmp_path,
        layer(
            member("etc", tarfile.DIRTYPE),
            ("etc/motd", b"hello"),
            member("bin", tarfile.DIRTYPE),
            member("bin/tool", size=0, mode=0o4755),  # set-user-ID: dropped
            member("etc/hosts-link", tarfile.SYMTYPE, linkname="/etc/hosts"),
            member("etc/motd-again", tarfile.LNKTYPE, linkname="etc/motd"),
            member("dev", tarfile.DIRTYPE),
            member("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0),
            member("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3),
            member("frozen", tarfile.DIRTYPE, mode=0o555),
            ("frozen/inside", b"kept"),  # written although its folder is read-only
        ),
    )
    assert (rootfs / "etc/motd").read_text() == "hello"
    assert stat.S_IMODE((rootfs / "bin/tool").stat().st_mode) == 0o755
    assert (rootfs / "etc/hosts-link").readlink() == Path("/etc/hosts")  # a link, not followed
    assert (rootfs / "etc/motd-again").stat().st_ino == (rootfs / "etc/motd").stat().st_ino
    assert list((rootfs / "dev").iterdir()) == []  # no device node
    assert (rootfs / "frozen/inside").read_text() == "kept"
    assert stat.S_IMODE((rootfs / "frozen").stat().st_mode) == 0o555


def test_whiteouts_delete_and_opaque_folders_hide_the_layers_below(tmp_path: Path) -> None:
    lower = layer(
        member("app", tarfile.DIRTYPE),
        ("app/old.py", b"old"),
        ("app/keep.py", b"keep"),
        member("cache", tarfile.DIRTYPE),
        ("cache/a", b"a"),
        member("cache/sub", tarfile.DIRTYPE),
        ("cache/sub/b", b"b"),
        member("gone", tarfile.DIRTYPE),
        ("gone/c", b"c"),
    )
    upper = layer(
        ("cache/new", b"new"),  # this layer's own entry, before its opaque marker
        ("cache/.wh..wh..opq", b""),
        ("app/.wh.old.py", b""),
        (".wh.gone", b""),
        ("app/new.py", b"new"),
    )
    rootfs = unpack(tmp_path, lower, upper)
    assert listing(rootfs) == ["app", "app/keep.py", "app/new.py", "cache", "cache/new"]


def test_a_later_layer_replaces_a_file_by_a_folder_and_a_link_by_a_file(tmp_path: Path) -> None:
    lower = layer(("thing", b"file"), member("link", tarfile.SYMTYPE, linkname="/etc/passwd"))
    upper = layer(member("thing", tarfile.DIRTYPE), ("thing/x", b"x"), ("link", b"plain"))
    rootfs = unpack(tmp_path, lower, upper)
    assert (rootfs / "thing/x").read_text() == "x"
    assert not (rootfs / "link").is_symlink() and (rootfs / "link").read_text() == "plain"


@pytest.mark.parametrize(
    ("layers", "message"),
    [
        ([layer(("/etc/evil", b"x"))], "leaves the root filesystem"),
        ([layer(("a/../../evil", b"x"))], "leaves the root filesystem"),
        (
            [
                layer(member("out", tarfile.SYMTYPE, linkname="/ESCAPE")),
                layer(("out/evil", b"x")),
            ],
            "goes through the link 'out'",
        ),
        (
            [layer(member("up", tarfile.SYMTYPE, linkname="..")), layer(("up/.wh.x", b""))],
            "goes through the link 'up'",
        ),
        ([layer(member("h", tarfile.LNKTYPE, linkname="../../etc/passwd"))], "leaves the root"),
        ([layer(member("h", tarfile.LNKTYPE, linkname="missing"))], "no file of the image"),
    ],
)
def test_members_that_escape_are_refused_and_nothing_is_kept(
    tmp_path: Path, layers: list[bytes], message: str
) -> None:
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "x").write_text("safe")
    with pytest.raises(InvalidInput, match=message):
        unpack(tmp_path, *layers)
    assert list((tmp_path / "images").iterdir()) == []  # no half-unpacked image to reuse
    assert (tmp_path / "victim" / "x").read_text() == "safe"


def test_an_archive_of_another_image_or_a_swapped_layer_is_refused(tmp_path: Path) -> None:
    store = ImageStore(tmp_path / "images")
    archive = image_archive([layer(("a", b"a"))])
    path = tmp_path / "image.tar"
    path.write_bytes(archive)
    other = archive_id(image_archive([layer(("b", b"b"))]))
    with pytest.raises(HashMismatch, match="not the registered"):
        store.unpack(path, other, "cube c")

    # The same configuration (so the same ID) with another layer's bytes.
    swapped = with_layers_replaced(archive, layer(("a", b"b")))
    assert archive_id(swapped) == archive_id(archive)
    path.write_bytes(swapped)
    with pytest.raises(HashMismatch, match=r"layer .* hashes to"):
        store.unpack(path, archive_id(archive), "cube c")
    assert list(store.root.iterdir()) == []


def with_layers_replaced(archive: bytes, content: bytes) -> bytes:
    """The archive with every layer tar's bytes replaced by ``content``."""
    buffer = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(archive)) as source,
        tarfile.open(fileobj=buffer, mode="w") as copy,
    ):
        for info in source.getmembers():
            data = source.extractfile(info) if info.isreg() else None
            if info.name.endswith("/layer.tar"):
                info.size, data = len(content), io.BytesIO(content)
            copy.addfile(info, data)
    return buffer.getvalue()


def test_an_image_is_unpacked_once_per_id(tmp_path: Path) -> None:
    archive = image_archive([layer(("a", b"a"))], {"Env": ["PATH=/bin", "EMPTY="]})
    path = tmp_path / "image.tar"
    path.write_bytes(archive)
    store = ImageStore(tmp_path / "images")
    first = store.unpack(path, archive_id(archive), "cube c")
    path.unlink()  # not read again
    again = store.unpack(path, archive_id(archive), "cube c")
    assert again == first == store.find(archive_id(archive))
    assert first.config.env == (("PATH", "/bin"), ("EMPTY", ""))
    assert first.rootfs == store.root / archive_id(archive)[7:] / "rootfs"


def test_the_command_follows_the_engines_entrypoint_and_cmd_rules() -> None:
    with_entrypoint = ImageConfig(entrypoint=("tool",), cmd=("--help",))
    only_cmd = ImageConfig(cmd=("sh", "-c", "run"))
    assert with_entrypoint.command(None, ["infer", "--x=1"]) == ["tool", "infer", "--x=1"]
    assert with_entrypoint.command(None, []) == ["tool", "--help"]
    assert with_entrypoint.command("python", ["run.py"]) == ["python", "run.py"]
    assert only_cmd.command(None, ["sh", "x.sh"]) == ["sh", "x.sh"]
    assert only_cmd.command(None, []) == ["sh", "-c", "run"]
