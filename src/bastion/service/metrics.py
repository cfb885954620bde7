"""Prometheus metrics, shared across worker processes.

With several workers, ``PROMETHEUS_MULTIPROC_DIR`` must name an empty directory before
the workers start (``bastion serve`` does this); each worker writes its samples there and
``GET /metrics`` merges them, so a scrape sees the whole server, not one worker.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: Latency buckets in seconds: fine below 10 ms, where the service is expected to live.
LATENCY_BUCKETS = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    10.0,
)

HTTP_REQUESTS = Counter(
    "bastion_http_requests",
    "HTTP requests answered, by route template, method and status code.",
    ["route", "method", "status"],
)
HTTP_LATENCY = Histogram(
    "bastion_http_request_duration_seconds",
    "Time from the first byte of the request to the last byte of the response.",
    ["route"],
    buckets=LATENCY_BUCKETS,
)
WAF_SCORED = Counter(
    "bastion_waf_scored_requests",
    "Requests scored by the WAF model, by model version and score class.",
    ["model_version", "score_class"],
)
WAF_ACTIONS = Counter(
    "bastion_waf_actions",
    "Rule decisions on scored requests (allow, block, challenge) by model version.",
    ["model_version", "action"],
)
OUTBOX_DELIVERIES = Counter(
    "bastion_outbox_deliveries",
    "Outbox delivery attempts by message kind and outcome (delivered, failed, dead_lettered).",
    ["kind", "outcome"],
)
ANALYTICS_QUEUED = Counter(
    "bastion_analytics_queued",
    "Scored requests sampled and queued for the request log.",
)
ANALYTICS_WRITTEN = Counter(
    "bastion_analytics_written",
    "Logged requests written to the analytics store.",
)
ANALYTICS_DROPPED = Counter(
    "bastion_analytics_dropped",
    "Sampled requests not logged, by reason (queue_full, write_error).",
    ["reason"],
)
ANALYTICS_BATCH_LATENCY = Histogram(
    "bastion_analytics_batch_duration_seconds",
    "Time to build and write one batch of logged requests.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)


def render() -> tuple[bytes, str]:
    """The exposition text of every worker's metrics and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
