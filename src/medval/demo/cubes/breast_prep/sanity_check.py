"""Task ``sanity_check``: validate a prepared dataset (columns, ranges, no missing, ids)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True

from harmonize import InputError, fail, read_prepared  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        cases, labels = read_prepared(args.data_path, args.labels_path)
    except InputError as exc:
        fail("sanity_check", exc)
    print(f"sanity_check: ok: {len(cases)} cases, {int(labels['event_5y'].sum())} events")


if __name__ == "__main__":
    main()
