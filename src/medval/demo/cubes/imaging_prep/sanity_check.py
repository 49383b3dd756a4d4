"""Task ``sanity_check``: a prepared dataset is whole and in the prepared format (every
case's image and label present, RAS+, the same grid)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.dont_write_bytecode = True

from volumes import InputError, fail, read_prepared  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_path", type=Path, required=True)
    parser.add_argument("--labels_path", type=Path, required=True)
    parser.add_argument("--parameters_file", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        cases = read_prepared(args.data_path, args.labels_path)
    except (InputError, ValueError) as exc:
        fail("sanity_check", exc)
    print(f"sanity_check: ok: {len(cases)} cases")


if __name__ == "__main__":
    main()
