"""medval.server: the HTTP API, its use cases and its store.

Entry points for the CLI, the demo and tests: ``create_app``, ``run_server``,
``BackgroundServer``, ``upgrade_database``, ``create_admin`` and ``ServerSettings``.
"""
