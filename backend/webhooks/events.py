"""The events a webhook endpoint can subscribe to. Pure: no database, no web framework."""

from __future__ import annotations

from enum import StrEnum


class EventType(StrEnum):
    RUN_ENDED = "run.ended"
    TRAINING_FINISHED = "training.finished"
    BACKTEST_FINISHED = "backtest.finished"
    IMPORT_FINISHED = "import.finished"
    RISK_WARNING = "risk.warning"
    RISK_BREACH = "risk.breach"
    # Sent by "send test event" to one endpoint, whatever it subscribes to; not subscribable.
    TEST = "webhook.test"


SUBSCRIBABLE: tuple[EventType, ...] = tuple(e for e in EventType if e is not EventType.TEST)

# One line each, as the dashboard and docs/webhooks.md explain them.
DESCRIPTIONS: dict[EventType, str] = {
    EventType.RUN_ENDED: "a run ended (run_end pushed) and its final metrics are stored",
    EventType.TRAINING_FINISHED: "a training job succeeded, failed or was cancelled",
    EventType.BACKTEST_FINISHED: "a backtest launched from the dashboard completed or failed",
    EventType.IMPORT_FINISHED: "an import finished",
    EventType.RISK_WARNING: "an account came close to one of its risk limits",
    EventType.RISK_BREACH: "an account broke one of its risk limits",
    EventType.TEST: "a test event sent from Settings",
}
