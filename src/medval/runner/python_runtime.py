"""The Python that ``python`` means in a sandbox: medval's own interpreter with its
installation and virtual environment, or a cube's own environment built from the base
interpreter (:mod:`medval.runner.python_environments`). The local runner binds its
folders read-only; the container runners build an image from them
(:mod:`medval.runner.python_image`)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PythonRuntime:
    """The interpreter that ``python`` means in a sandbox, and the folders it needs."""

    executable: Path
    roots: tuple[Path, ...]

    @classmethod
    def current(cls) -> PythonRuntime:
        """The Python running medval: its installation and its virtual environment."""
        prefixes = {sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix}
        return cls(Path(sys.executable), tuple(Path(p) for p in sorted(prefixes)))

    def for_environment(self, environment: Path | None) -> PythonRuntime:
        """The runtime of a task: this one, or a cube's own environment (built from the
        base interpreter): its ``python`` and folders, and the base installation's only,
        so that nothing of medval's own virtual environment is there to import."""
        if environment is None:
            return self
        prefixes = {sys.base_prefix, sys.base_exec_prefix}
        roots = (*(Path(p) for p in sorted(prefixes)), environment)
        return PythonRuntime(environment / "bin" / "python", roots)

    def bind_roots(self) -> list[Path]:
        """The roots to bind: none that /usr already holds, none inside another."""
        usr = Path("/usr")
        roots = sorted({root.resolve() for root in self.roots})
        kept: list[Path] = []
        for root in roots:
            if root == usr or root.is_relative_to(usr):
                continue
            if any(root.is_relative_to(other) for other in kept):
                continue
            kept.append(root)
        return kept

    @property
    def bin_dir(self) -> Path:
        return self.executable.parent
