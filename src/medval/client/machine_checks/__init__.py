"""The checks ``medval doctor`` makes of a data owner's machine, one module per thing
checked: the runners (:mod:`.runners`), the workspace (:mod:`.workspace`), the server
(:mod:`.server`) and the Python (:mod:`.python`); what a check returns, and the machine
it probes, in :mod:`.results`. The use case that runs them all is
:mod:`medval.client.doctor`.

Each check asks the runner's own probes (``medval.runner``) rather than repeating them.
Imports: the client's settings, ``medval.runner`` and ``medval.core``; never the CLI.
"""
