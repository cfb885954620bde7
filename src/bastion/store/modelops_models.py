"""Models of the model registry (migration 0006): versions, artifacts, rollout state,
status history, shadow tallies, per-minute score histograms and analysts' feedback.

Imported at the bottom of :mod:`bastion.store.models` so ``Base.metadata`` sees them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bastion.store.models import Base, BigIntId


class ModelVersion(Base):
    """One registered model artifact (WAF or scripts), named by its content hash."""

    __tablename__ = "model_versions"
    __table_args__ = (Index("ix_model_versions_kind_status", "kind", "status"),)

    #: ``waf-<12 hex>`` / ``js-<12 hex>``: the first hex digits of the file's SHA-256.
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger())
    #: Featurizer id and request-pipeline fingerprint the model was trained with.
    featurizer: Mapped[str] = mapped_column(String(64))
    pipeline: Mapped[str] = mapped_column(String(64))
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON())
    card: Mapped[dict[str, Any]] = mapped_column(JSON())
    #: ``candidate``, ``shadow``, ``canary``, ``active`` or ``retired``.
    status: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[datetime]
    registered_by: Mapped[str] = mapped_column(String(64))
    #: Where it was registered from (a file path), for people; the bytes are in the DB.
    source: Mapped[str] = mapped_column(String(1024))
    note: Mapped[str] = mapped_column(Text(), default="")


class ModelArtifact(Base):
    """The bytes of a registered model: workers load models from here."""

    __tablename__ = "model_artifacts"

    version: Mapped[str] = mapped_column(
        String(64), ForeignKey("model_versions.version", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary())


class ModelRollout(Base):
    """The rollout state of one model kind; ``revision`` is what workers poll."""

    __tablename__ = "model_rollouts"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger())
    #: :meth:`bastion.modelops.RolloutState.to_json`.
    state: Mapped[dict[str, Any]] = mapped_column(JSON())
    updated_at: Mapped[datetime]


class ModelStatusEvent(Base):
    """One status change, with the whole rollout state after it (answers "what was live
    at time T" with one indexed lookup)."""

    __tablename__ = "model_status_events"
    __table_args__ = (Index("ix_model_status_events_kind_at", "kind", "at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    version: Mapped[str] = mapped_column(String(64), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text())
    revision: Mapped[int] = mapped_column(BigInteger())
    state: Mapped[dict[str, Any]] = mapped_column(JSON())


class ModelShadowStat(Base):
    """Summed shadow comparisons of a (candidate, active) pair per vector and class pair."""

    __tablename__ = "model_shadow_stats"

    candidate: Mapped[str] = mapped_column(String(64), primary_key=True)
    baseline: Mapped[str] = mapped_column(String(64), primary_key=True)
    vector: Mapped[str] = mapped_column(String(16), primary_key=True)
    active_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    candidate_class: Mapped[str] = mapped_column(String(16), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger())
    sum_delta: Mapped[int] = mapped_column(BigInteger())
    sum_abs_delta: Mapped[int] = mapped_column(BigInteger())


class ModelScoreMinute(Base):
    """One worker's score histograms of one minute, per model version and zone.

    ``hist`` maps each vector to 100 counts (scores 1..99, then unscored); the drift
    monitor sums rows over workers and minutes.
    """

    __tablename__ = "model_score_minutes"
    __table_args__ = (Index("ix_model_score_minutes_version_minute", "version", "minute"),)

    minute: Mapped[datetime] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    zone: Mapped[str] = mapped_column(String(253), primary_key=True)
    worker: Mapped[str] = mapped_column(String(64), primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger())
    blocked: Mapped[int] = mapped_column(BigInteger())
    hist: Mapped[dict[str, Any]] = mapped_column(JSON())


class ModelFeedback(Base):
    """An analyst's false-positive / false-negative mark on one request: a labeled example."""

    __tablename__ = "model_feedback"
    __table_args__ = (Index("ix_model_feedback_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    zone: Mapped[str] = mapped_column(String(253))
    #: ``false_positive`` (clean, was flagged) or ``false_negative`` (attack, was missed).
    label: Mapped[str] = mapped_column(String(16))
    #: For a false negative: the attack vector (``sqli``, ``xss``, ``rce``), else None.
    vector: Mapped[str | None] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64))
    #: The request object (the scoring API's JSON form).
    request: Mapped[dict[str, Any]] = mapped_column(JSON())
    scores: Mapped[dict[str, Any] | None] = mapped_column(JSON())
    note: Mapped[str] = mapped_column(Text())
