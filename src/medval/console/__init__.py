"""``medval console``: the data owner's local page (a face, like ``medval.cli``).

Served on loopback only, behind a one-time token printed in the terminal, it shows the
pending executions, runs one on approval with live progress, shows the exact payload of
its result and uploads it on approval, shows the cases a dataset's preparation waits for
at a review step (their images, accept or exclude each), and lists the local audit log.
It calls the same use cases as the CLI (``medval.client``); it may import
``medval.client`` and ``medval.core``, never ``medval.server`` or ``medval.cli``.
"""
