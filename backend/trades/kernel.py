"""The rules of reconstruct.py compiled (numba) over arrays: same integers, same results.

`reconstruct()` spends most of its time being Python: a call per fill, an object
per trade state. Here the same matching runs as one compiled loop over int64
arrays, and Decimals are made only where a caller needs them (`results`).

Exactness. reconstruct.py counts every quantity, price and commission in 1e-8
units and notional (qty x price) in 1e-16 units, as unbounded Python integers.
int64 cannot hold that: 5 contracts at 5000 are 5e8 x 5e11 in those units. So
each call picks, for the fills it is given, the smallest decimal scales that
make every quantity and every price an integer (futures: qty scale 1, price
scale 100 for a 0.25 tick), counts commissions in 1e-8 (the pro-rata split of a
crossing fill rounds to 1e-8), and checks in advance that every product and
running sum fits: max |qty| x max |price| x fills bounds any notional sum, max
|commission| x max |qty| x fills the pro-rata product (commission x position)
and the commission sums (both within int64), max |qty| x fills the quantity
sums (within 2^53, so they are exact as floats too). When one would not, or a
value is not finite, `compute` returns None and callers use the pure-Python
path. Results are scaled back to
reconstruct.py's units with Python integers and go through the same
`trade_result`, so both paths give equal TradeResults (tests/trades prove it
on random fill sequences).

Compilation. numba is imported and the kernel compiled (or loaded from its
on-disk cache, `cache=True`) in a background thread started by `start_warm_up`;
`ready()` says whether it is done. The rebuild path uses the kernel only when
ready and never waits for it, so no request pays the import (~0.5 s) or a first
compile (seconds). `warm_up_seconds` reports what it cost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from backend.trades.reconstruct import (
    SCALE,
    Fill,
    FillPart,
    TradeResult,
    TradeSums,
    trade_result,
    trade_sums,
    units,
)

log = logging.getLogger(__name__)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

INT64_MAX = 2**63 - 1
_D_SCALE = Decimal(SCALE)
_ROLES = ("entry", "exit")


# -- the kernel (plain Python here; numba compiles it in the warm-up) -------------------


def _match(
    seq: Ints, ts: Ints, signed: Ints, price: Ints, fee: Ints
) -> tuple[Any, ...]:  # pragma: no cover - runs compiled; tests compare it with reconstruct()
    """Position.apply over arrays. qty and price in the call's own units, fee in 1e-8.

    Returns (trades, parts, per-trade arrays..., per-part arrays...): every trade but
    possibly the last is closed; a trade's parts are contiguous and in fill order.
    """
    n = seq.shape[0]
    t_seq = np.empty(n, np.int64)
    t_dir = np.empty(n, np.int64)
    t_entry_ts = np.empty(n, np.int64)
    t_exit_ts = np.empty(n, np.int64)
    t_entry_qty = np.zeros(n, np.int64)
    t_entry_notional = np.zeros(n, np.int64)
    t_exit_qty = np.zeros(n, np.int64)
    t_exit_notional = np.zeros(n, np.int64)
    t_fee = np.zeros(n, np.int64)
    t_position = np.zeros(n, np.int64)
    t_max = np.zeros(n, np.int64)
    p_seq = np.empty(2 * n, np.int64)
    p_trade = np.empty(2 * n, np.int64)
    p_role = np.empty(2 * n, np.int8)
    p_qty = np.empty(2 * n, np.int64)
    p_fee = np.empty(2 * n, np.int64)
    k = -1  # the current trade
    m = 0  # parts written
    is_open = False
    for i in range(n):
        q = signed[i]
        qty = q if q > 0 else -q
        px = price[i]
        f = fee[i]
        if not is_open:
            k += 1
            d = 1 if q > 0 else -1
            t_seq[k] = seq[i]
            t_dir[k] = d
            t_entry_ts[k] = ts[i]
            t_entry_qty[k] = qty
            t_entry_notional[k] = qty * px
            t_fee[k] = f
            t_position[k] = d * qty
            t_max[k] = qty
            p_seq[m], p_trade[m], p_role[m], p_qty[m], p_fee[m] = seq[i], k, 0, qty, f
            m += 1
            is_open = True
            continue
        d = t_dir[k]
        if (q > 0) == (d > 0):  # entry: scale in
            t_entry_qty[k] += qty
            t_entry_notional[k] += qty * px
            t_fee[k] += f
            t_position[k] += d * qty
            held = t_position[k] if t_position[k] > 0 else -t_position[k]
            if held > t_max[k]:
                t_max[k] = held
            p_seq[m], p_trade[m], p_role[m], p_qty[m], p_fee[m] = seq[i], k, 0, qty, f
            m += 1
            continue
        held = t_position[k] if t_position[k] > 0 else -t_position[k]
        if qty < held:  # partial exit
            t_exit_qty[k] += qty
            t_exit_notional[k] += qty * px
            t_fee[k] += f
            t_position[k] -= d * qty
            p_seq[m], p_trade[m], p_role[m], p_qty[m], p_fee[m] = seq[i], k, 1, qty, f
            m += 1
            continue
        closing = f
        if qty != held:  # _pro_rata: f * held / qty, half-even; the rest opens the next trade
            num = f * held
            quotient = num // qty
            twice = 2 * (num - quotient * qty)
            if twice > qty or (twice == qty and quotient % 2 != 0):
                quotient += 1
            closing = quotient
        t_exit_qty[k] += held
        t_exit_notional[k] += held * px
        t_fee[k] += closing
        t_position[k] = 0
        t_exit_ts[k] = ts[i]
        p_seq[m], p_trade[m], p_role[m], p_qty[m], p_fee[m] = seq[i], k, 1, held, closing
        m += 1
        is_open = False
        rest = qty - held
        if rest > 0:  # reversal: the rest opens a trade the other way
            k += 1
            d = -d
            t_seq[k] = seq[i]
            t_dir[k] = d
            t_entry_ts[k] = ts[i]
            t_entry_qty[k] = rest
            t_entry_notional[k] = rest * px
            t_fee[k] = f - closing
            t_position[k] = d * rest
            t_max[k] = rest
            p_seq[m], p_trade[m], p_role[m], p_qty[m], p_fee[m] = seq[i], k, 0, rest, f - closing
            m += 1
            is_open = True
    trades = k + 1
    return (
        trades, m, is_open,
        t_seq[:trades], t_dir[:trades], t_entry_ts[:trades], t_exit_ts[:trades],
        t_entry_qty[:trades], t_entry_notional[:trades], t_exit_qty[:trades],
        t_exit_notional[:trades], t_fee[:trades], t_position[:trades], t_max[:trades],
        p_seq[:m], p_trade[:m], p_role[:m], p_qty[:m], p_fee[:m],
    )  # fmt: skip


# -- compilation in the background -------------------------------------------------------

_compiled: Callable[..., tuple[Any, ...]] | None = None
_ready = threading.Event()
_lock = threading.Lock()
_thread: threading.Thread | None = None
warm_up_seconds: dict[str, float] = {}  # "import" and "compile" (or cache load), once done


def _warm_up() -> None:
    global _compiled
    try:
        start = time.perf_counter()
        import numba

        imported = time.perf_counter()
        compiled = numba.njit(cache=True, nogil=True)(_match)
        tiny = np.array([1, 2], np.int64)
        compiled(tiny, tiny, np.array([1, -1], np.int64), tiny, tiny)  # compile or load cache
        done = time.perf_counter()
        warm_up_seconds.update({"import": imported - start, "compile": done - imported})
        _compiled = compiled
        log.info("trade kernel ready: numba import %.2f s, compile/cache %.2f s",
                 imported - start, done - imported)  # fmt: skip
    except Exception:  # no numba, or it cannot compile here: the pure-Python path serves
        log.exception("trade kernel unavailable; trades rebuild in pure Python")
    finally:
        _ready.set()


def start_warm_up() -> None:
    """Import numba and compile the kernel in a daemon thread, once; returns at once."""
    global _thread
    with _lock:
        if _thread is None:
            _thread = threading.Thread(target=_warm_up, name="trade-kernel", daemon=True)
            _thread.start()


def ready() -> bool:
    """Whether the compiled kernel can be used now (never waits)."""
    return _compiled is not None


def wait(timeout: float | None = None) -> bool:
    """Start the warm-up if needed and wait for it; whether the kernel is usable."""
    start_warm_up()
    _ready.wait(timeout)
    return ready()


# -- arrays in, arrays out ---------------------------------------------------------------


@dataclass(frozen=True)
class Matched:
    """The kernel's output: trades and fill parts as arrays in the call's own units.

    Quantities count 10^-qty_places, prices 10^-price_places, notional both,
    commissions 1e-8. Only the last trade can be open (`last_open`); its exit_ts is
    meaningless then.
    """

    qty_places: int
    price_places: int
    last_open: bool
    # per trade
    first_seq: Ints
    direction: Ints  # +1 long, -1 short
    entry_ts: Ints
    exit_ts: Ints
    entry_qty: Ints
    entry_notional: Ints
    exit_qty: Ints
    exit_notional: Ints
    commission: Ints
    position: Ints  # signed open quantity (0 when closed)
    max_position: Ints
    # per fill part
    part_seq: Ints
    part_trade: Ints  # index into the trade arrays
    part_role: npt.NDArray[np.int8]  # 0 entry, 1 exit
    part_qty: Ints
    part_commission: Ints

    def __len__(self) -> int:
        return len(self.first_seq)


def _units(values: Floats) -> Ints | None:
    """units() of each value (round(x * 1e8), half-even), or None if one cannot be int64."""
    scaled = np.asarray(values, dtype=np.float64) * SCALE
    if not np.isfinite(scaled).all() or (np.abs(scaled) >= 2.0**62).any():
        return None
    return np.rint(scaled).astype(np.int64)


def _places(scaled: Ints) -> int:
    """The fewest decimal places (0-8) that keep every value of `scaled` (1e-8 units) whole."""
    common = int(np.gcd.reduce(scaled)) if len(scaled) else 0
    if common == 0:
        return 0
    places = 8
    while places and common % 10 == 0:
        common //= 10
        places -= 1
    return places


def compute(
    seq: Ints, ts: Ints, buy: npt.NDArray[np.bool_], qty: Floats, price: Floats, fee: Floats
) -> Matched | None:
    """Match fills sorted by (ts, seq), starting flat; None when the kernel is not ready
    or the values do not fit its int64 arithmetic (use reconstruct() then)."""
    kernel = _compiled
    if kernel is None or len(seq) == 0:
        return None
    qty8, price8, fee8 = _units(qty), _units(price), _units(fee)
    if qty8 is None or price8 is None or fee8 is None or (qty8 <= 0).any():
        return None  # reconstruct() raises on qty <= 0 with the fill's seq
    qty_places, price_places = _places(qty8), _places(price8)
    q = qty8 // 10 ** (8 - qty_places)
    p = price8 // 10 ** (8 - price_places)
    n = len(q)
    max_q, max_p, max_f = int(q.max()), int(np.abs(p).max()), int(np.abs(fee8).max())
    if (
        max_q * n > 2**53  # quantity sums, exact as floats too
        or max_q * max_p * n > INT64_MAX  # notional sums
        or max_f * max_q * n > INT64_MAX  # pro-rata products (fee x position), fee sums
    ):
        return None
    signed = np.where(buy, q, -q)
    out = kernel(
        np.ascontiguousarray(seq, dtype=np.int64), np.ascontiguousarray(ts, dtype=np.int64),
        signed, p, fee8,
    )  # fmt: skip
    return Matched(qty_places, price_places, bool(out[2]), *out[3:])


# -- Decimals, only where needed ---------------------------------------------------------


def results(matched: Matched, multiplier: float = 1.0, *, parts: bool = True) -> list[TradeResult]:
    """The TradeResults reconstruct() would give for the same fills (equal, field by field).

    With `parts=False` their `fills` are left empty: a caller that stores the parts
    takes them from `part_rows` instead, without a Decimal and a record each.
    """
    m = matched
    q_up = 10 ** (8 - m.qty_places)  # to 1e-8 units
    n_up = 10 ** (16 - m.qty_places - m.price_places)  # to 1e-16 units
    mult = units(multiplier)
    if parts:
        roles = [_ROLES[r] for r in m.part_role.tolist()]
        part_seq, part_qty = m.part_seq.tolist(), m.part_qty.tolist()
        part_fee = m.part_commission.tolist()
        bounds = np.searchsorted(m.part_trade, np.arange(len(m) + 1)).tolist()
    last = len(m) - 1
    out = []
    for i, (seq, direction, entry_ts, exit_ts, eq, en, xq, xn, fee, pos, top) in enumerate(
        zip(
            m.first_seq.tolist(), m.direction.tolist(), m.entry_ts.tolist(), m.exit_ts.tolist(),
            m.entry_qty.tolist(), m.entry_notional.tolist(), m.exit_qty.tolist(),
            m.exit_notional.tolist(), m.commission.tolist(), m.position.tolist(),
            m.max_position.tolist(), strict=True,
        )
    ):  # fmt: skip
        fills = (
            tuple(
                FillPart(
                    part_seq[j],
                    roles[j],
                    Decimal(part_qty[j] * q_up) / _D_SCALE,
                    Decimal(part_fee[j]) / _D_SCALE,
                )
                for j in range(bounds[i], bounds[i + 1])
            )  # fmt: skip
            if parts
            else ()
        )
        open_ = m.last_open and i == last
        out.append(
            trade_result(
                seq,
                direction,
                entry_ts,
                None if open_ else exit_ts,
                eq * q_up,
                en * n_up,
                xq * q_up,
                xn * n_up,
                fee,
                pos * q_up,
                top * q_up,
                mult,
                fills,
            )  # fmt: skip
        )
    return out


def sums(matched: Matched, multiplier: float = 1.0) -> list[TradeSums]:
    """Each trade's results as integers (`trade_sums`), without a Decimal: what a rebuild
    stores. Equal to `sums_of` each of `results(matched, multiplier)`."""
    m = matched
    q_up = 10 ** (8 - m.qty_places)  # to 1e-8 units
    n_up = 10 ** (16 - m.qty_places - m.price_places)  # to 1e-16 units
    mult = units(multiplier)
    out = [
        trade_sums(seq, direction, entry_ts, exit_ts, eq * q_up, en * n_up, xq * q_up,
                   xn * n_up, fee, pos * q_up, top * q_up, mult)
        for seq, direction, entry_ts, exit_ts, eq, en, xq, xn, fee, pos, top in zip(
            m.first_seq.tolist(), m.direction.tolist(), m.entry_ts.tolist(),
            m.exit_ts.tolist(), m.entry_qty.tolist(), m.entry_notional.tolist(),
            m.exit_qty.tolist(), m.exit_notional.tolist(), m.commission.tolist(),
            m.position.tolist(), m.max_position.tolist(), strict=True,
        )
    ]  # fmt: skip
    if m.last_open and out:
        out[-1] = out[-1]._replace(exit_ts=None)
    return out


def part_rows(matched: Matched) -> list[tuple[int, int, str, float, int]]:
    """The fill parts as (trade id, seq, role, qty, commission in 1e-8 units) rows."""
    m = matched
    qty = (m.part_qty / 10**m.qty_places).tolist()  # as float(Decimal(qty)): correctly rounded
    trade_id = m.first_seq[m.part_trade].tolist()
    roles = [_ROLES[r] for r in m.part_role.tolist()]
    return list(
        zip(trade_id, m.part_seq.tolist(), roles, qty, m.part_commission.tolist(), strict=True)
    )


Columns = tuple[Ints, Ints, npt.NDArray[np.bool_], Floats, Floats, Floats]


def columns(fills: Sequence[Sequence[Any]]) -> Columns:
    """Fills as (seq, ts, side, qty, price, commission, ...) (`Fill`s, or rows that start
    with those) as the arrays `compute` takes."""
    n = len(fills)

    def column(i: int, dtype: Any) -> Any:
        return np.fromiter(map(itemgetter(i), fills), dtype=dtype, count=n)

    buy = np.fromiter((f[2] == "buy" for f in fills), dtype=np.bool_, count=n)
    return (
        column(0, np.int64), column(1, np.int64), buy, column(3, np.float64),
        column(4, np.float64), column(5, np.float64),
    )  # fmt: skip


def reconstruct_fills(fills: Sequence[Fill], multiplier: float = 1.0) -> list[TradeResult] | None:
    """reconstruct(fills, multiplier) through the kernel; None when it cannot serve them."""
    if not fills or not ready():
        return None
    matched = compute(*columns(fills))
    return results(matched, multiplier) if matched is not None else None
