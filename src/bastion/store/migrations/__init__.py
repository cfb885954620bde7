"""Alembic migrations of bastion's schema (run by ``bastion.store.Database.upgrade``)."""
