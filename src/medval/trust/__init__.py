"""Trust: what lets a party rely on medval without trusting the others.

Pure code: it imports only ``medval.core`` and libraries, never the client, the server,
the CLI or the runner, so the data owner's client and the server evaluate the same rules
with the same code.
"""
