"""Initial stops for many trades at once equal the rule applied one trade at a time."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.trades.risk import PLACEMENT_GRACE_NS, StopOrder, initial_stop, initial_stops

SECOND = 1_000_000_000

orders = st.lists(
    st.builds(
        StopOrder,
        order_id=st.sampled_from([f"s{i}" for i in range(6)]),
        side=st.sampled_from(["buy", "sell"]),
        order_type=st.sampled_from(["stop", "stop_limit", "limit"]),
        parent_id=st.sampled_from([None, "o1", "o2", "o3"]),
        placed_ts=st.integers(0, 20).map(lambda s: s * SECOND // 2),
        finished_ts=st.one_of(st.none(), st.integers(0, 24).map(lambda s: s * SECOND // 2)),
        first_stop_price=st.one_of(st.none(), st.sampled_from([95.0, 96.5, 104.0, 105.25])),
    ),
    max_size=12,
)
entries = st.lists(
    st.tuples(
        st.sampled_from(["long", "short"]),
        st.integers(0, 20).map(lambda s: s * SECOND // 2),
        st.sampled_from([None, "o1", "o2", "o3", "o9"]),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(entries, orders)
def test_initial_stops_equal_initial_stop_of_each(
    trades: list[tuple[str, int, str | None]], stops: list[StopOrder]
) -> None:
    expected = [initial_stop(direction, ts, order, stops) for direction, ts, order in trades]
    assert initial_stops(trades, stops) == expected


def test_the_earliest_placed_of_the_working_and_the_linked_wins() -> None:
    stops = [
        StopOrder("late", "sell", "stop", "entry", 5 * SECOND, None, 97.0),  # linked, later
        StopOrder("early", "sell", "stop", None, 0, 3 * SECOND, 95.0),  # working at 2 s
        StopOrder("done", "sell", "stop", None, 0, 1 * SECOND, 90.0),  # finished before
    ]
    assert initial_stops([("long", 2 * SECOND, "entry")], stops) == [95.0]
    assert initial_stops([("long", 4 * SECOND, "entry")], stops) == [97.0]  # early finished
    assert initial_stops([("short", 4 * SECOND, "entry")], stops) == [None]  # wrong side
    assert initial_stops([("long", 5 * SECOND - PLACEMENT_GRACE_NS, None)], stops) == [97.0]
