"""Storage: SQLAlchemy models, the :class:`Database` handle and Alembic migrations.

SQLite (a file, or ``sqlite://`` in memory for tests) and PostgreSQL (psycopg 3) are both
supported; the schema lives in ``migrations/`` and is applied with :meth:`Database.upgrade`.
"""

from __future__ import annotations

from bastion.store.audit import record_audit
from bastion.store.db import Database, DatabaseError, normalize_url
from bastion.store.models import ApiToken, AuditEntry, Base, TokenZone, Zone

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Base",
    "Database",
    "DatabaseError",
    "TokenZone",
    "Zone",
    "normalize_url",
    "record_audit",
]
