"""Fixtures the client's test modules share: ``pki`` (a throwaway CA and a certificate
for 127.0.0.1) and ``https_server`` (a live server speaking HTTPS with it)."""

from tests.client.test_tls import https_server, pki  # noqa: F401 (fixtures, used by name)
