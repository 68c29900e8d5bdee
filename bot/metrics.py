"""What a replica counts for Prometheus (``GET /metrics``): updates, sends, the outbox, leadership.

One set of metrics per process, on prometheus-client's default registry. Anyone may import
this module; it imports nothing of ours. The outbox's rows by state are read from the
database when scraped (:func:`set_outbox_rows`), everything else is counted as it happens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

UPDATES: Final = Counter(
    "trainee_updates_total",
    "Updates handled, by type (message, callback_query...) and result (ok, ignored, error).",
    ["type", "result"],
)
HANDLER_SECONDS: Final = Histogram(
    "trainee_handler_seconds",
    "Time to handle one update, from the dispatcher to the last answer.",
    ["type"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
OUTBOX_ROWS: Final = Gauge(
    "trainee_outbox_rows", "Outbox rows by state, read when scraped.", ["status"]
)
SENDS: Final = Counter(
    "trainee_sends_total", "Outbox sends by Telegram's answer (ok, 429, 403, other).", ["result"]
)
RETRY_AFTER_SECONDS: Final = Counter(
    "trainee_retry_after_seconds_total", "Seconds Telegram asked every send to wait (429s)."
)
REMINDER_LATENESS: Final = Histogram(
    "trainee_reminder_lateness_seconds",
    "How long after its due time a reminder went out.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
)
LEADER: Final = Gauge(
    "trainee_leader", "1 while this replica leads (runs the scheduler and the sender).", ["replica"]
)

#: The outbox's states, so that a state with no rows reads 0 rather than vanishing.
OUTBOX_STATES: Final = ("pending", "sending", "sent", "failed", "expired", "cancelled")


def set_outbox_rows(counts: Mapping[str, int]) -> None:
    """The outbox's rows by state, as just counted."""
    for status in {*OUTBOX_STATES, *counts}:
        OUTBOX_ROWS.labels(status).set(counts.get(status, 0))


def send_result(outcome: str) -> str:
    """The ``result`` label of a send: ok, 429, 403 or other."""
    return {"sent": "ok", "retry_after": "429", "unreachable": "403"}.get(outcome, "other")


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
