"""Trust: what lets a reader believe a result without believing the server.

Ed25519 keys (``keys``), the canonical form of a signed result and its signature
(``signed_result``), and the export bundle with its offline verifier (``bundle``).
Pure: imports only ``medval.core`` and libraries (``cryptography``, ``rfc8785``); no
files, no network, no server or client code.
"""
