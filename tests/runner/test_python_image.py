"""What goes into the Python image the engines run a ``python`` task in: medval's own
dependencies, and the packages a runner is asked for beside them (a ClientApp needs
Flower, which medval itself does not require)."""

from __future__ import annotations

import pytest

from medval.core.errors import SandboxError
from medval.runner import DockerRunner, PodmanRunner
from medval.runner.python_image import PythonImagePlan
from medval.runner.python_runtime import PythonRuntime


def _names(plan: PythonImagePlan) -> set[str]:
    return {distribution.metadata["Name"].lower() for distribution in plan.distributions}


def test_a_package_asked_for_comes_with_what_it_requires() -> None:
    runtime = PythonRuntime.current()
    plain = PythonImagePlan.for_runtime(runtime)
    # pytest stands in for Flower: installed in every test environment (Flower is not, on
    # Debian's Python), required by nothing medval requires, and requiring others itself.
    added = PythonImagePlan.for_runtime(runtime, ("medval", "pytest"))
    assert "medval" in _names(plain) and "pytest" not in _names(plain)
    assert {"medval", "pytest", "pluggy", "iniconfig"} <= _names(added)
    assert plain.tag() != added.tag()


def test_a_package_not_installed_is_one_line() -> None:
    with pytest.raises(SandboxError) as error:
        PythonImagePlan.for_runtime(PythonRuntime.current(), ("medval", "no-such-package"))
    assert str(error.value) == "the Python image needs no-such-package, which is not installed here"


@pytest.mark.parametrize("engine", [DockerRunner, PodmanRunner])
def test_an_engine_runner_keeps_what_it_was_asked_to_add(
    engine: type[DockerRunner] | type[PodmanRunner],
) -> None:
    runner = engine()
    with_flower = runner.with_python_packages("flwr")
    assert (runner.python_packages, with_flower.python_packages) == ((), ("flwr",))
    assert with_flower.with_python_packages("flwr") is with_flower
