"""Which sites the aggregator admits: node keys registered at the SuperLink, kept in step
with the approved associations.

``sync`` takes the whole approved set (site name -> node public key) and the revoked
names: every approved key not yet registered is registered under its site's name, every
registered site that is revoked, no longer approved or approved with another key is
unregistered (Flower then drops its SuperNode within seconds). What was registered is
remembered in the work directory (``nodes.json``: name, key, Flower's node id), because
Flower lists nodes without their keys or names, and a restarted aggregator must know
which node is whose. Flower never registers a key twice, even after it was unregistered:
a site whose key was revoked needs a new node key to rejoin, and ``sync`` says so before
changing anything. Imports ``medval.core`` and ``medval.training`` only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from medval.core.errors import InvalidInput, TrainingError
from medval.training.ca import check_node_public_key
from medval.training.control import KEY_IN_USE, Control, ControlRefused

_SITE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass
class NodeSync:
    """What one ``sync`` changed (site names, sorted)."""

    registered: list[str] = field(default_factory=list)
    unregistered: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AdmittedNode:
    name: str
    public_key: str
    node_id: int


class SiteAdmission:
    """The registered node keys of one SuperLink, and their record in ``path``."""

    def __init__(self, control: Control, path: Path) -> None:
        self._control = control
        self._path = path
        self._admitted, self._retired = self._load()

    @property
    def admitted(self) -> dict[str, AdmittedNode]:
        return dict(self._admitted)

    def sync(self, approved: Mapping[str, str], revoked: Iterable[str]) -> NodeSync:
        wanted = self._checked(approved, set(revoked))
        result = NodeSync()
        for name, node in sorted(self._admitted.items()):
            if wanted.get(name) != node.public_key:
                self._control.unregister_node(node.node_id)
                del self._admitted[name]
                self._retired.add(node.public_key)
                self._save()
                result.unregistered.append(name)
        for name, key in sorted(wanted.items()):
            if name in self._admitted:
                result.unchanged.append(name)
                continue
            try:
                node_id = self._control.register_node(key, name)
            except ControlRefused as refused:
                if KEY_IN_USE in refused.reason:
                    raise TrainingError(
                        f"the node key of site {name} is registered at the SuperLink but "
                        f"not in this aggregator's records ({self._path}); it needs a new "
                        "node key"
                    ) from None
                raise
            self._admitted[name] = AdmittedNode(name, key, node_id)
            self._save()
            result.registered.append(name)
        return result

    def _checked(self, approved: Mapping[str, str], revoked: set[str]) -> dict[str, str]:
        """The approved keys, normalized, once nothing in the request is wrong."""
        wanted: dict[str, str] = {}
        owners: dict[str, str] = {}
        for name, text in sorted(approved.items()):
            if not _SITE_NAME.match(name):
                raise InvalidInput(
                    f"site name {name!r}: letters, digits, '.', '_' and '-' only, at most "
                    "128, starting with a letter or digit"
                )
            if name in revoked:
                raise InvalidInput(f"site {name} is both approved and revoked")
            try:
                key = check_node_public_key(text)
            except InvalidInput as error:
                raise InvalidInput(f"site {name}: {error}") from None
            if key in owners:
                raise InvalidInput(f"sites {owners[key]} and {name} have the same node key")
            if key in self._retired:
                raise InvalidInput(
                    f"site {name}: its node key was revoked before and Flower never admits "
                    "a key twice; the site needs a new node key"
                )
            owners[key] = name
            wanted[name] = key
        return wanted

    def _load(self) -> tuple[dict[str, AdmittedNode], set[str]]:
        if not self._path.exists():
            return {}, set()
        try:
            document = json.loads(self._path.read_text())
            admitted = {
                entry["name"]: AdmittedNode(
                    entry["name"], entry["public_key"], int(entry["node_id"])
                )
                for entry in document["admitted"]
            }
            retired = {str(key) for key in document["retired_keys"]}
        except (OSError, ValueError, KeyError, TypeError):
            raise TrainingError(f"{self._path}: not a record of admitted sites") from None
        return admitted, retired

    def _save(self) -> None:
        document = {
            "admitted": [
                {"name": node.name, "public_key": node.public_key, "node_id": node.node_id}
                for node in sorted(self._admitted.values(), key=lambda node: node.name)
            ],
            "retired_keys": sorted(self._retired),
        }
        temporary = self._path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2) + "\n")
        os.replace(temporary, self._path)
