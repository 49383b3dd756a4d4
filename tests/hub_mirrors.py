"""Local hub mirrors for the tests, laid out as huggingface_hub's own cache is.

``hf download ORG/NAME --revision REV --cache-dir DIR`` leaves, for a model repository::

    DIR/models--ORG--NAME/
        blobs/<blob id>                       every file's content, once
        snapshots/<commit>/<path>             a relative link to ../../blobs/<blob id>
        refs/<branch or tag>                  the commit it is at (40 hex, no newline)
        trees/<commit>.json                   the commit's file listing (recent versions)

A file's blob id is the Hub's ETag for it: the git blob sha1 of a file stored in git,
the sha256 of one stored in LFS (large files, and those ``.gitattributes`` sends there).
:func:`write_repo` writes exactly that, with no network and no Hub; the tests read it
back with huggingface_hub's own ``snapshot_download(..., local_files_only=True)`` and
``scan_cache_dir`` (tests/client/test_hub_mirror.py), so a layout of ours that the
library would not read fails there.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Mapping
from pathlib import Path

# What the Hub puts in a new model repository (a shortened list of its LFS patterns).
GITATTRIBUTES = (
    "*.bin filter=lfs diff=lfs merge=lfs -text\n"
    "*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
    "*.pt filter=lfs diff=lfs merge=lfs -text\n"
)


def git_blob_sha1(content: bytes) -> str:
    """The git object id of a file's content (what the Hub's ETag is for a git file)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def commit_id(files: Mapping[str, bytes], message: str) -> str:
    """A 40-hex commit id that changes with the content (the Hub's would be git's own)."""
    listing = "".join(f"{path}\0{git_blob_sha1(data)}\n" for path, data in sorted(files.items()))
    return hashlib.sha1(f"{listing}{message}".encode()).hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by its '/' path (a cube as a repository would hold it)."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def write_repo(
    mirror: Path,
    repo_id: str,
    files: Mapping[str, bytes],
    refs: Collection[str] = ("main",),
    lfs: Collection[str] = (),
    message: str = "initial commit",
) -> str:
    """One commit of model repository ``repo_id`` in ``mirror``, reachable by each of
    ``refs`` (branches or tags); ``lfs`` names the files stored in LFS. Returns the commit."""
    storage = mirror / ("models--" + repo_id.replace("/", "--"))
    commit = commit_id(files, message)
    snapshot = storage / "snapshots" / commit
    tree: dict[str, dict[str, object]] = {}
    for path, content in sorted(files.items()):
        git_id = git_blob_sha1(content)
        entry: dict[str, object] = {"size": len(content), "blob_id": git_id}
        blob_name = git_id
        if path in lfs:
            blob_name = hashlib.sha256(content).hexdigest()
            entry.update(lfs_sha256=blob_name, lfs_size=len(content))
        tree[path] = entry
        blob = storage / "blobs" / blob_name
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(content)
        link = snapshot / path
        link.parent.mkdir(parents=True, exist_ok=True)
        # Relative, as huggingface_hub makes them (file_download._create_symlink).
        link.symlink_to(os.path.relpath(blob, link.parent))
    for ref in refs:
        (storage / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (storage / "refs" / ref).write_text(commit)
    listing = {"format_version": 1, "files": tree}
    (storage / "trees").mkdir(exist_ok=True)
    (storage / "trees" / f"{commit}.json").write_text(json.dumps(listing, indent=2))
    return commit


def cube_repo(
    mirror: Path, repo_id: str, cube: Path, refs: Collection[str] = ("main",)
) -> tuple[str, dict[str, bytes]]:
    """A cube folder published as a model repository (with the Hub's ``.gitattributes``,
    its weights in LFS): the commit and the repository's files."""
    files = {".gitattributes": GITATTRIBUTES.encode(), **folder_files(cube)}
    weights = {path for path in files if path.startswith("weights")}
    return write_repo(mirror, repo_id, files, refs, lfs=weights), files


def blob_of(mirror: Path, repo_id: str, commit: str, path: str) -> Path:
    """The blob a snapshot's file links to (where a tamperer would change it)."""
    link = mirror / ("models--" + repo_id.replace("/", "--")) / "snapshots" / commit / path
    return link.resolve()
