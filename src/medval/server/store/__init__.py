"""The server's store: one interface, one SQLAlchemy implementation, blobs on disk."""

from medval.server.store.interface import Store, StoreTransaction
from medval.server.store.migrate import upgrade_database
from medval.server.store.sql import SqlStore

__all__ = ["SqlStore", "Store", "StoreTransaction", "upgrade_database"]
