"""From request bytes to a PreparedBatch: envelope checks, then per-event validation.

The fast path validates the whole body in one pydantic call straight from the
JSON bytes. Only when something is invalid is the body decoded separately:
envelope problems reject the batch (422); event problems reject just those
events, each kept in its raw form with a reason naming its index, id, field
and problem, while the others are validated again and stored.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgpack
import orjson
from pydantic import ValidationError

from backend.errors import BadRequest, InvalidPayload, PayloadTooLarge, UnsupportedMediaType
from backend.ingest.batch import PreparedBatch, Rejection, raw_text
from backend.ingest.domain import MAX_AMOUNT, MAX_CAPITAL, MIN_AMOUNT
from backend.ingest.schemas import (
    CASH_MEMBERS,
    EVENT_TYPES,
    EXECUTION_MEMBERS,
    MAX_EVENTS,
    BatchAdapter,
    EventListAdapter,
    RunRef,
)

JSON_TYPES = {"application/json"}
MSGPACK_TYPES = {"application/msgpack", "application/x-msgpack", "application/vnd.msgpack"}


def media_type(content_type: str | None) -> str:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    if kind in JSON_TYPES:
        return "json"
    if kind in MSGPACK_TYPES:
        return "msgpack"
    raise UnsupportedMediaType(
        f"Content-Type must be application/json or application/msgpack, got {kind or 'none'!r}"
    )


def decode_body(body: bytes, kind: str) -> Any:
    try:
        if kind == "json":
            return orjson.loads(body)
        return msgpack.unpackb(body, raw=False, strict_map_key=False)
    except (ValueError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError) as exc:
        name = "JSON" if kind == "json" else "MessagePack"
        reason = str(exc) or type(exc).__name__
        raise BadRequest(f"the body is not valid {name}: {reason}") from None


def prepare_batch(body: bytes, kind: str, user_id: int) -> PreparedBatch:
    document: Any = None
    try:
        if kind == "json":
            batch = BatchAdapter.validate_json(body)
        else:
            document = decode_body(body, kind)
            batch = BatchAdapter.validate_python(document)
    except ValidationError as exc:
        if document is None:
            document = decode_body(body, kind)  # 400 here if the JSON itself is broken
        prepared = _split(user_id, document, exc)
    else:
        prepared = PreparedBatch(
            user_id, batch["source"], batch["run"], list(enumerate(batch["events"])), []
        )
    # PostgreSQL cannot store NUL in text, so no database gets it: the same answer on both.
    # In JSON a NUL can only be written `\u0000`; MessagePack bodies are searched decoded.
    if _NUL_JSON in (body if kind == "json" else raw_text(document).encode()):
        return _reject_nul(prepared, document if document is not None else decode_body(body, kind))
    return prepared


_NUL_JSON = b"\\u0000"
NUL_PROBLEM = "text must not contain NUL (\\u0000) characters"


def has_nul(value: Any) -> bool:
    """Does any string in `value` (keys included) hold a NUL character?"""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(key) or has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(has_nul(item) for item in value)
    return False


def _reject_nul(prepared: PreparedBatch, document: Any) -> PreparedBatch:
    """Refuse an envelope holding NUL (422); reject each event holding one, keep the rest."""
    for name in ("source", "run"):
        if has_nul(document.get(name)):
            raise InvalidPayload(f"{name}: {NUL_PROBLEM}")
    events = document["events"]
    bad = {index for index, event in enumerate(events) if has_nul(event)}
    if not bad:
        return prepared
    prepared.events = [(index, event) for index, event in prepared.events if index not in bad]
    prepared.rejected = sorted(
        [r for r in prepared.rejected if r.index not in bad]
        + [
            Rejection(
                index=index,
                event_id=_field(events[index], "id", 200),
                event_type=_field(events[index], "type", 32),
                raw=raw_text(events[index]),
                error=NUL_PROBLEM,
            )
            for index in bad
        ],
        key=lambda r: r.index,
    )
    prepared.raw_events = events
    return prepared


def _split(user_id: int, document: Any, exc: ValidationError) -> PreparedBatch:
    """Reject the envelope (422/413), or keep the bad events aside and validate the rest."""
    envelope_errors, event_errors = [], defaultdict(list)
    events = document.get("events") if isinstance(document, dict) else None
    for error in exc.errors():
        loc = error["loc"]
        if len(loc) >= 2 and loc[0] == "events" and isinstance(loc[1], int):
            event = events[loc[1]] if isinstance(events, list) else None
            detail = _event_error(error, event)
            if detail is not None:
                event_errors[loc[1]].append(detail)
        else:
            envelope_errors.append(error)
    if isinstance(events, list) and len(events) > MAX_EVENTS:
        raise PayloadTooLarge(f"events: at most {MAX_EVENTS} events per batch, got {len(events)}")
    if envelope_errors:
        if not isinstance(document, dict):
            raise InvalidPayload(
                "the body must be an object with source, run and events, "
                f"got {type(document).__name__}"
            )
        raise InvalidPayload(_describe(envelope_errors))
    assert isinstance(document, dict)
    assert isinstance(events, list)
    run = RunRef.model_validate(document["run"])
    good = [i for i in range(len(events)) if i not in event_errors]
    validated = EventListAdapter.validate_python([events[i] for i in good])
    rejected = [
        Rejection(
            index=index,
            event_id=_field(events[index], "id", 200),
            event_type=_field(events[index], "type", 32),
            raw=raw_text(events[index]),
            error=_describe(errors),
        )
        for index, errors in sorted(event_errors.items())
    ]
    return PreparedBatch(
        user_id,
        document["source"].strip(),
        run,
        list(zip(good, validated, strict=True)),
        rejected,
        raw_events=events,
    )


def event_problems(exc: ValidationError, events: list[Any]) -> dict[int, str]:
    """What is wrong with each bad event, from `EventListAdapter.validate_python(events)`."""
    problems: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for error in exc.errors():
        index = int(error["loc"][0])
        detail = _event_error({**error, "loc": ("events", *error["loc"])}, events[index])
        if detail is not None:
            problems[index].append(detail)
    return {index: _describe(errors) for index, errors in problems.items()}


_UNKNOWN_TYPE = f"unknown event type; expected one of {', '.join(EVENT_TYPES)}"


def _event_error(error: Any, event: Any) -> dict[str, Any] | None:
    """An event's error with its location inside the event, or None for an error of the
    execution variant the event is not (a fill is not checked against the bust's fields)."""
    loc = error["loc"][2:]  # drop "events" and the index
    if not loc:  # the event itself: not an object, or no type we know
        return {**error, "loc": (), "type": "unknown_event_type", "msg": _UNKNOWN_TYPE,
                "input": event}  # fmt: skip
    tag, *rest = loc
    members = {"execution": EXECUTION_MEMBERS, "cash": CASH_MEMBERS}.get(str(tag))
    if members is not None and rest and rest[0] in members.values():
        removal = isinstance(event, dict) and event.get("op") == "remove"
        if rest[0] != members["remove" if removal else "fill"]:
            return None
        rest = rest[1:]
    return {**error, "loc": tuple(rest)}


def _field(event: Any, name: str, limit: int) -> str | None:
    value = event.get(name) if isinstance(event, dict) else None
    return value[:limit].replace("\x00", "\ufffd") if isinstance(value, str) else None


def _describe(errors: list[Any]) -> str:
    """`qty: must be greater than 0; ts: 1702650600 looks like epoch seconds; ...`"""
    parts = []
    for error in errors:
        path = ".".join(str(part) for part in error["loc"])
        message = _message(error)
        parts.append(f"{path}: {message}" if path else message)
    return "; ".join(dict.fromkeys(parts))


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "missing":
        return "is required"
    if error["type"] == "list_type":
        return f"must be a list, got {type(error.get('input')).__name__}"
    if error["type"] == "unknown_event_type":
        value = error.get("input")
        if not isinstance(value, dict):
            return f"an event must be an object, got {type(value).__name__}"
        return f"type: {error['msg']}, got {value.get('type')!r}"
    limit = _amount_limit(error)
    if limit is not None:
        return limit
    message = str(error["msg"]).removeprefix("Value error, ")
    return message.replace("Input should be", "must be", 1)


def _amount_limit(error: dict[str, Any]) -> str | None:
    """The amount bounds of backend/ingest/domain.py in words, with the value sent."""
    ctx, value = error.get("ctx") or {}, error.get("input")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if error["type"] == "greater_than_equal" and ctx.get("ge") == MIN_AMOUNT:
        if value <= 0:
            return "must be greater than 0"  # the contract's own words
        return f"must be at least {MIN_AMOUNT:g} (the smallest amount counted), got {value!r}"
    if error["type"] == "less_than_equal" and ctx.get("le") in (MAX_AMOUNT, MAX_CAPITAL):
        return f"must be at most {ctx['le']:,.0f}, got {value!r}"
    return None
