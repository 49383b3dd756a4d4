"""statistics.json and results.json are read without trusting the cube that wrote them.

A link is never followed (its target's content never shows), a FIFO never blocks, and a
document too large or nested too deep is one line (InvalidInput), not a crash.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from medval.client.execution import read_document
from medval.core.documents import MAX_DOCUMENT_BYTES, MAX_DOCUMENT_DEPTH, ResultDocument
from medval.core.errors import InvalidInput

VALID = {"n_cases": 10, "n_positive": 3, "metrics": {"auroc": {"value": 0.7}}}


def _refusal(path: Path) -> str:
    with pytest.raises(InvalidInput) as refused:
        read_document(ResultDocument, path, "results")
    message = refused.value.message
    assert "\n" not in message
    return message


def test_a_valid_document_reads(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps(VALID))
    document = read_document(ResultDocument, tmp_path / "results.json", "results")
    assert document.metrics["auroc"].value == 0.7


def test_a_link_to_a_host_file_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "host-secret.txt"
    secret.write_text('{"patient": "Jane Roe, 1961-04-02"}')
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").symlink_to(secret)
    message = _refusal(out / "results.json")
    assert message == "the cube's results.json is a symbolic link, not a file (results)"
    assert "Jane Roe" not in message


def test_a_dangling_link_reads_the_same_as_any_link(tmp_path: Path) -> None:
    (tmp_path / "results.json").symlink_to(tmp_path / "nowhere")
    assert _refusal(tmp_path / "results.json") == (
        "the cube's results.json is a symbolic link, not a file (results)"
    )


@pytest.mark.timeout(20)
def test_a_fifo_never_blocks(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "results.json")
    assert _refusal(tmp_path / "results.json") == (
        "the cube's results.json is a FIFO, not a file (results)"
    )


def test_an_absent_document(tmp_path: Path) -> None:
    assert _refusal(tmp_path / "results.json") == "the cube wrote no results.json (results)"


def test_a_document_over_the_cap_is_refused_before_it_is_read(tmp_path: Path) -> None:
    padded = json.dumps(VALID) + " " * MAX_DOCUMENT_BYTES
    (tmp_path / "results.json").write_text(padded)
    assert _refusal(tmp_path / "results.json") == (
        f"the cube's results.json is larger than {MAX_DOCUMENT_BYTES // 1024} KiB "
        f"({len(padded)} bytes; results)"
    )


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_document_nested_too_deep_is_one_line(tmp_path: Path, opening: str) -> None:
    depth = 100_000  # Within the size cap, far past what any parser can recurse.
    closing = "]" if opening == "[" else "}"
    (tmp_path / "results.json").write_text(opening * depth + "1" + closing * depth)
    assert _refusal(tmp_path / "results.json") == (
        f"the cube's results.json is nested deeper than {MAX_DOCUMENT_DEPTH} levels (results)"
    )


def test_brackets_inside_strings_do_not_count_as_nesting(tmp_path: Path) -> None:
    document = {**VALID, "metrics": {"auroc": {"value": 0.7}}}
    text = json.dumps(document)[:-1] + ', "note": "[[[[{{{{\\"[[[["}'
    (tmp_path / "results.json").write_text(text)
    # Read past the nesting check: refused by the strict shape, not by depth.
    assert "nested" not in _refusal(tmp_path / "results.json")
    assert "not a valid results document" in _refusal(tmp_path / "results.json")
