"""ContentService on SQLite and PostgreSQL: what one scan writes, and the review workflow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from kit import matcher_of, photo
from sqlalchemy import func, select

from bastion.content import DecodeLimits, EmptyContent, TooLarge
from bastion.service.content import (
    BlockNotFound,
    BlockStateError,
    ContentInputError,
    ContentService,
    enqueue_digest,
)
from bastion.service.content_cache import LocalHashCache
from bastion.store import AuditEntry, Database
from bastion.store.content_models import ContentBlock, ContentEvidence, OutboxMessage

KNOWN = photo(1)


def service(db: Database, seen: list[tuple[str, str, str]] | None = None) -> ContentService:
    matcher = matcher_of([KNOWN])
    return ContentService(
        db,
        lambda: matcher,
        LocalHashCache(100, 60),
        DecodeLimits(max_bytes=1 << 20),
        on_block=None if seen is None else lambda *a: seen.append(a),
    )


def count(db: Database, model: type, *where: object) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_a_match_writes_block_evidence_report_digest_and_audit(clean_database: Database) -> None:
    seen: list[tuple[str, str, str]] = []
    svc = service(clean_database, seen)
    out = svc.scan(KNOWN, "https://Shop.Example/img/a.jpg?v=1", "Shop.Example", actor="tok1")
    assert out.result.matched and out.block is not None and not out.cached
    assert out.block["state"] == "active" and out.block["url"] == "/img/a.jpg"
    assert out.block["zone"] == "shop.example" and out.block["entries"][0]["indicator_id"]
    assert seen == [("shop.example", "/img/a.jpg", "active")]
    assert count(clean_database, ContentBlock) == 1
    assert count(clean_database, ContentEvidence) == 1
    assert count(clean_database, OutboxMessage, OutboxMessage.kind == "report") == 1
    assert count(clean_database, OutboxMessage, OutboxMessage.kind == "notification") == 1
    assert count(clean_database, AuditEntry, AuditEntry.action == "content_block.create") == 1
    with clean_database.session() as s:
        report = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "report")).one()
        assert report.payload["file"]["sha256"] == out.sha256
        assert report.payload["url"] == "https://Shop.Example/img/a.jpg?v=1"
        assert report.payload["incident"]["time"] and report.payload["distance"] == 0

    # The same content again: cached hashes, the same block, no new records.
    again = svc.scan(KNOWN, "/img/a.jpg", "shop.example", actor="tok1")
    assert again.cached and again.block is not None and again.block["id"] == out.block["id"]
    assert count(clean_database, ContentEvidence) == 1
    assert count(clean_database, OutboxMessage) == 2

    # Another URL in the same zone the same day joins the same digest.
    svc.scan(KNOWN, "/img/b.jpg", "shop.example", actor="tok1")
    assert count(clean_database, ContentBlock) == 2
    assert count(clean_database, OutboxMessage, OutboxMessage.kind == "notification") == 1
    with clean_database.session() as s:
        digest = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "notification")).one()
        assert [b["url"] for b in digest.payload["blocks"]] == [
            "https://Shop.Example/img/a.jpg?v=1",
            "/img/b.jpg",
        ]


def test_no_match_writes_nothing(clean_database: Database) -> None:
    out = service(clean_database).scan(photo(2), "/x.jpg", "shop.example", actor="t")
    assert not out.result.matched and out.block is None
    assert count(clean_database, ContentBlock) == 0 and count(clean_database, OutboxMessage) == 0


def test_bad_inputs(clean_database: Database) -> None:
    svc = service(clean_database)
    with pytest.raises(EmptyContent):
        svc.scan(b"", "/x", "shop.example", actor="t")
    with pytest.raises(TooLarge):
        svc.scan(b"x" * (2 << 20), "/x", "shop.example", actor="t")
    with pytest.raises(ContentInputError):
        svc.scan(KNOWN, "/x", "not a zone", actor="t")
    with pytest.raises(ContentInputError):
        svc.scan(KNOWN, "relative/path", "shop.example", actor="t")
    out = svc.scan(b"GIF89a truncated", "/x", "shop.example", actor="t")
    assert "pdq" in out.result.errors and not out.result.matched


def test_one_digest_per_zone_per_day(clean_database: Database) -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    with clean_database.session(write=True) as s:
        enqueue_digest(s, "a.example", [{"n": 1}], now)
        enqueue_digest(s, "b.example", [{"n": 2}], now)
    with clean_database.session(write=True) as s:
        row = s.scalars(select(OutboxMessage).where(OutboxMessage.zone == "a.example")).one()
        row.delivered_at = now
        enqueue_digest(s, "a.example", [{"n": 3}], now + timedelta(hours=1))
        enqueue_digest(s, "a.example", [{"n": 4}], now + timedelta(hours=2))
    with clean_database.session() as s:
        rows = s.scalars(
            select(OutboxMessage).where(OutboxMessage.zone == "a.example").order_by("id")
        ).all()
        assert [r.key for r in rows] == [
            "notification:a.example:2026-05-01",
            "notification:a.example:2026-05-02",
        ]
        assert rows[1].payload["blocks"] == [{"n": 3}, {"n": 4}]
        assert rows[1].next_attempt_at == datetime(2026, 5, 2, tzinfo=UTC)


def test_review_workflow_and_its_audit(clean_database: Database) -> None:
    seen: list[tuple[str, str, str]] = []
    svc = service(clean_database, seen)
    block = svc.scan(KNOWN, "/a.jpg", "shop.example", actor="scanner").block
    assert block is not None
    bid = block["id"]
    with pytest.raises(BlockStateError, match="'active'"):
        svc.start_review(bid, actor="ts")
    assert svc.appeal(bid, "this is our logo", actor="owner")["state"] == "pending"
    with pytest.raises(BlockStateError, match="'pending'"):
        svc.decide(bid, "resolved", "x", actor="ts")
    assert svc.start_review(bid, actor="ts")["state"] == "in_review"
    with pytest.raises(ContentInputError):
        svc.decide(bid, "maybe", "x", actor="ts")
    assert svc.decide(bid, "resolved", "false positive", actor="ts")["state"] == "resolved"
    full = svc.get_block(bid)
    assert full["appeals"][0]["decision"] == "resolved"
    assert full["appeals"][0]["reviewer"] == "ts"
    assert [s[2] for s in seen] == ["active", "pending", "in_review", "resolved"]
    with clean_database.session() as s:
        actions = s.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == [
        "content_block.create",
        "content_block.appeal",
        "content_block.review",
        "content_block.decide",
    ]
    # The same content again stays resolved; new content at the URL reopens the block.
    assert svc.scan(KNOWN, "/a.jpg", "shop.example", actor="s").block["state"] == "resolved"  # type: ignore[index]
    with pytest.raises(BlockNotFound):
        svc.appeal(9999, "x", actor="owner")
    assert svc.list_blocks(state="resolved")[0]["id"] == bid
    assert svc.list_blocks(zones=frozenset({"other.example"})) == []
