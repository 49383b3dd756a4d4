"""A site in a process of its own, as ``medval training run`` holds one: it starts, prints
its Flower processes' IDs as one JSON line, then serves until Ctrl-C.

Usage: ``python -m tests.training.sites.site_process FOLDER AGGREGATOR``. The aggregator need not
answer: Flower keeps trying, which is all these tests need.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

from medval.runner import runner_for
from medval.training.site import Site, SiteSetup
from medval.training.site_progress import SiteProgress

from .harness import write_dataset
from .pki import make_pki


def say(event: SiteProgress) -> None:
    print(f"{event.kind.value}: {event.text}", flush=True)


def main(folder: Path, aggregator: str) -> None:
    pki = make_pki(folder / "pki")
    key, _ = pki.site_key(folder, "site")
    setup = SiteSetup(
        workdir=folder / "site",
        aggregator=aggregator,
        ca_certificate=pki.ca_certificate,
        node_private_key=key,
        dataset=write_dataset(folder / "data", 0),
        training_app_sha256="ab" * 32,
        runner=runner_for("local"),
    )
    site = Site(setup, say)
    # Ctrl-C may come before serve() is reached (the test sends it once Flower speaks,
    # which can be before this thread gets there on a loaded machine): stop either way,
    # as medval training run does.
    try:
        site.start()
        print(json.dumps(site.process_ids), flush=True)
        site.serve()
    except KeyboardInterrupt:
        pass
    finally:
        site.stop()


if __name__ == "__main__":
    # A shell's background job (make unit's Flower lane) starts with Ctrl-C ignored, and
    # children keep that: listen for it again, as a site in a terminal does.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main(Path(sys.argv[1]), sys.argv[2])
