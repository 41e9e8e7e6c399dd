"""The ORM models, one module per entity; importing this package registers them all."""

from backend.db.base import Base
from backend.db.models.account import Account, CashFlow, FxRate
from backend.db.models.api_key import ApiKey
from backend.db.models.attachment import Attachment
from backend.db.models.backtest import Backtest
from backend.db.models.bar import Bar, MarketBar, MarketSeries, RunSeries
from backend.db.models.execution import Execution
from backend.db.models.instrument import Instrument
from backend.db.models.journal import (
    JournalDay,
    JournalTemplate,
    Mistake,
    Playbook,
    PlaybookRule,
    TradeJournal,
    TradeMistake,
    TradeRuleTick,
)
from backend.db.models.login_throttle import LoginThrottleRecord
from backend.db.models.order import Order, OrderEvent
from backend.db.models.pending_derivation import PendingDerivation
from backend.db.models.rejected_event import RejectedEvent
from backend.db.models.statement_import import ImportMapping, StatementImport
from backend.db.models.strategy import RunMode, RunStatus, Strategy, StrategyInstance, StrategyRun
from backend.db.models.stream_ticket import StreamTicket
from backend.db.models.trade import Trade, TradeFill
from backend.db.models.training_job import AutoTraining, TrainingJob
from backend.db.models.user import Role, User
from backend.db.models.webhook import WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "Account",
    "ApiKey",
    "Attachment",
    "AutoTraining",
    "Backtest",
    "Bar",
    "Base",
    "CashFlow",
    "Execution",
    "FxRate",
    "ImportMapping",
    "Instrument",
    "JournalDay",
    "JournalTemplate",
    "LoginThrottleRecord",
    "MarketBar",
    "MarketSeries",
    "Mistake",
    "Order",
    "OrderEvent",
    "PendingDerivation",
    "Playbook",
    "PlaybookRule",
    "RejectedEvent",
    "StatementImport",
    "Role",
    "RunMode",
    "RunSeries",
    "RunStatus",
    "Strategy",
    "StrategyInstance",
    "StrategyRun",
    "StreamTicket",
    "Trade",
    "TradeFill",
    "TradeJournal",
    "TradeMistake",
    "TradeRuleTick",
    "TrainingJob",
    "User",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
]
