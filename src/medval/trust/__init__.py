"""Trust: what lets a regulator, a hospital or a vendor check medval's records themselves.

Keys, the canonical form, signatures, bundles, the audit chain, data policies' evaluation.
Pure code: it imports ``medval.core`` and libraries only (never the server, the client or
the CLI), so the same checks run on the server, on a data owner's machine and offline.
"""
