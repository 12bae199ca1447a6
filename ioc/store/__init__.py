"""Event and user store: SQLite by default, PostgreSQL by URL."""

from __future__ import annotations

from ioc.settings import Settings
from ioc.store.base import Store, StoreError


def open_store(settings: Settings) -> Store:
    """The store the settings ask for: ``database_url`` (postgresql://…) or ``data_dir/ioc.db``."""
    url = settings.database_url
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise StoreError(f"IOC_DATABASE_URL: expected postgresql://…, got {url.split('://')[0]}://…")
        from ioc.store.postgres import PostgresStore

        return PostgresStore(url)
    from ioc.store.sqlite import SqliteStore

    return SqliteStore(settings.data_dir / "ioc.db")


__all__ = ["Store", "StoreError", "open_store"]
