"""Strategy plug-ins: the base class, its parameters, and the context it trades through.

A strategy sees each candle when it closes (`on_bar`), never a later one. Orders
it submits then start working from the next candle's first second; orders it
submits from `on_fill` work from the second after the fill. Whole-array
indicators may be computed up front in `indicators()` as long as each value
uses only candles up to its own (a rolling mean does; a centred one does not);
the context hands out only the values up to the current candle.

    class Cross(Strategy):
        name = "my_cross"
        description = "..."
        parameters = (Parameter("fast", 10, minimum=2, maximum=100),)

        def indicators(self, candles):
            return {"sma": sma(candles.close, self.params["fast"])}

        def on_bar(self, ctx, bar):
            if bar.close > ctx.value("sma") and ctx.position <= 0:
                ctx.buy(1 - ctx.position)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
import numpy.typing as npt

from services.backtester.orders import Execution, Order, OrderRequest, OrderType, Side, TimeInForce

if TYPE_CHECKING:
    from services.backtester.candles import Candles

FloatArray = npt.NDArray[np.float64]
ParamValue = int | float | str | bool


@dataclass(frozen=True)
class Parameter:
    """A strategy parameter: its default, and the range a sweep may explore."""

    name: str
    default: ParamValue
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    choices: tuple[ParamValue, ...] | None = None

    @property
    def kind(self) -> type:
        return type(self.default)

    def parse(self, value: Any) -> ParamValue:
        """`value` (a string from the command line, or a JSON value) in this parameter's type."""
        kind = self.kind
        try:
            if kind is bool:
                if isinstance(value, str):
                    lowered = value.strip().lower()
                    if lowered not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(value)
                    parsed: ParamValue = lowered in ("true", "1", "yes")
                else:
                    parsed = bool(value)
            elif kind is int:
                as_float = float(value)
                if as_float != int(as_float):
                    raise ValueError(value)
                parsed = int(as_float)
            elif kind is float:
                parsed = float(value)
            else:
                parsed = str(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"{self.name}: expected {kind.__name__}, got {value!r}"
            ) from None
        if isinstance(parsed, int | float) and not isinstance(parsed, bool):
            if self.minimum is not None and parsed < self.minimum:
                raise ValueError(f"{self.name}: must be >= {self.minimum}, got {parsed}")
            if self.maximum is not None and parsed > self.maximum:
                raise ValueError(f"{self.name}: must be <= {self.maximum}, got {parsed}")
        if self.choices is not None and parsed not in self.choices:
            raise ValueError(f"{self.name}: must be one of {list(self.choices)}, got {parsed!r}")
        return parsed

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.kind.__name__,
            "default": self.default,
            "description": self.description,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "step": self.step,
            "choices": None if self.choices is None else list(self.choices),
        }


class Bar(NamedTuple):
    """A closed candle: `ts` is its open time (epoch ns)."""

    idx: int  # the candle number, from 0
    ts: int
    open: float
    high: float
    low: float
    close: float
    volume: float


class Strategy(ABC):
    """Subclass it, set `name`, `description`, `parameters`, and implement `on_bar`."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    parameters: ClassVar[tuple[Parameter, ...]] = ()

    def __init__(self, params: Mapping[str, Any] | None = None) -> None:
        self.params: dict[str, ParamValue] = self.resolve(params or {})
        self.check()

    def check(self) -> None:  # noqa: B027 (an optional hook)
        """Raise ValueError when the parameters do not go together (each is checked already)."""

    @classmethod
    def resolve(cls, params: Mapping[str, Any]) -> dict[str, ParamValue]:
        """Defaults overlaid with `params`, each parsed and checked; unknown names refused."""
        known = {p.name: p for p in cls.parameters}
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(
                f"{cls.name}: unknown parameter(s) {unknown}; known: {sorted(known)}"
            )
        return {
            name: parameter.parse(params[name]) if name in params else parameter.default
            for name, parameter in known.items()
        }

    def indicators(self, candles: Candles) -> dict[str, FloatArray]:  # noqa: ARG002
        """Causal whole-array indicators by name (served up to the current candle, pushed
        as the run bars' values)."""
        return {}

    def on_start(self, ctx: Context) -> None:  # noqa: B027 (an optional hook)
        """Before the first candle."""

    @abstractmethod
    def on_bar(self, ctx: Context, bar: Bar) -> None:
        """At each candle's close: the strategy's decisions."""

    def on_fill(self, ctx: Context, fill: Execution) -> None:  # noqa: B027 (an optional hook)
        """After each fill (the position already includes it)."""

    def on_stop(self, ctx: Context) -> None:  # noqa: B027 (an optional hook)
        """After the last candle."""


class Context:
    """What a strategy may see and do. The engine moves it along; strategies only read it."""

    def __init__(
        self,
        candles: Candles,
        indicators: dict[str, FloatArray],
        submit: Callable[[OrderRequest], Order],
        cancel: Callable[[str], bool],
        working: Callable[[], list[Order]],
        params: Mapping[str, ParamValue],
    ) -> None:
        self.candles = candles
        self._indicators = indicators
        self._submit = submit
        self._cancel = cancel
        self._working = working
        self.params = params
        self.index = -1
        self.position = 0.0
        self.avg_price: float | None = None
        self.realised_pnl = 0.0
        self.commission = 0.0
        self.recorded: dict[str, float] = {}

    # -- history ---------------------------------------------------------------------

    def history(self, field: str = "close", n: int | None = None) -> FloatArray:
        """Candle `field` values up to and including the current candle (the last `n`)."""
        values: FloatArray = getattr(self.candles, field)[: self.index + 1]
        return values if n is None else values[-n:]

    def value(self, name: str, ago: int = 0) -> float:
        """Indicator `name` at the current candle (`ago` candles back); NaN before it exists."""
        at = self.index - ago
        return float(self._indicators[name][at]) if at >= 0 else float("nan")

    def values(self, name: str, n: int | None = None) -> FloatArray:
        series = self._indicators[name][: self.index + 1]
        return series if n is None else series[-n:]

    def record(self, name: str, value: float) -> None:
        """A named number for the current candle's run bar (like an indicator)."""
        self.recorded[name] = float(value)

    # -- orders ----------------------------------------------------------------------

    def submit(self, request: OrderRequest) -> Order:
        return self._submit(request)

    def buy(self, qty: float, **kwargs: Any) -> Order:
        return self._submit(OrderRequest(Side.BUY, qty, **_typed(kwargs)))

    def sell(self, qty: float, **kwargs: Any) -> Order:
        return self._submit(OrderRequest(Side.SELL, qty, **_typed(kwargs)))

    def target_position(self, target: float, **kwargs: Any) -> Order | None:
        """One order for the difference between `target` and the position (None if equal)."""
        delta = target - self.position
        if abs(delta) < 1e-12:
            return None
        return self.buy(delta, **kwargs) if delta > 0 else self.sell(-delta, **kwargs)

    def cancel(self, order_id: str) -> bool:
        return self._cancel(order_id)

    def cancel_all(self) -> int:
        return sum(self._cancel(order.order_id) for order in self._working())

    @property
    def working_orders(self) -> list[Order]:
        return self._working()

    def flatten(self) -> Order | None:
        """Cancel every working order and close the position at market."""
        self.cancel_all()
        return self.target_position(0.0)


def _typed(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Accept plain strings for the enum fields (`order_type="limit"`, `tif="day"`)."""
    if "order_type" in kwargs:
        kwargs["order_type"] = OrderType(kwargs["order_type"])
    if "tif" in kwargs:
        kwargs["tif"] = TimeInForce(kwargs["tif"])
    return kwargs
