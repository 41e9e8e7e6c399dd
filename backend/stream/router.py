from __future__ import annotations

import asyncio
import datetime as dt

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from backend.api.context import AppContext
from backend.api.deps import WriteSessionDep
from backend.auth.deps import CanRead, Principal, authenticate, revocation_reason, scope_refusal
from backend.auth.scopes import Scope
from backend.errors import AppError
from backend.stream.broker import CREDENTIALS_CHANGED
from backend.stream.tickets import StreamTicketRead, create_ticket, take_ticket, ticket_principal

router = APIRouter(prefix="/api", tags=["stream"])

# How often an open stream re-checks its credential (revoked or expired key, deactivated
# user); revocations through the API are also announced, so they close streams at once.
RECHECK_SECONDS = 5.0
# Close codes: the credential is refused or no longer holds; it lacks the `read` scope.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@router.post(
    "/stream/ticket",
    status_code=status.HTTP_201_CREATED,
    operation_id="create_stream_ticket",
)
def create_stream_ticket(principal: CanRead, session: WriteSessionDep) -> StreamTicketRead:
    """A single-use ticket, valid for a minute, that opens `/api/stream?ticket=` as the caller."""
    return create_ticket(session, principal)


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Live updates for the caller: `?ticket=` (POST /api/stream/ticket), a Bearer header,
    or `?token=` (access token or API key; kept for old clients, prefer a ticket)."""
    context: AppContext = websocket.app.state.context
    try:
        principal = await run_in_threadpool(_principal, context, websocket)
    except AppError as exc:
        await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=exc.detail[:120])
        return
    refusal = scope_refusal(principal, Scope.READ)
    if refusal is not None:
        await websocket.close(code=CLOSE_FORBIDDEN, reason=refusal[:120])
        return
    await websocket.accept()
    subscription = context.broker.subscribe(principal.user_id)
    recheck = asyncio.Event()

    async def forward() -> None:
        await websocket.send_json({"type": "hello", "user_id": principal.user_id})
        while True:
            message = await subscription.queue.get()
            if message.get("type") == CREDENTIALS_CHANGED:
                recheck.set()
                continue
            if subscription.dropped:
                await websocket.send_json({"type": "overflow", "dropped": subscription.dropped})
                subscription.dropped = 0
            await websocket.send_json(message)

    async def until_closed() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # clients have nothing to say yet; reading notices a hang-up at once

    async def watch() -> None:
        """Close the stream once its credential no longer holds."""
        while True:
            try:
                await asyncio.wait_for(recheck.wait(), _until_next_check(principal))
            except TimeoutError:
                pass
            recheck.clear()
            reason = await run_in_threadpool(_revocation_reason, context, principal)
            if reason is not None:
                await websocket.close(code=CLOSE_UNAUTHENTICATED, reason=f"closed: {reason}"[:120])
                return

    tasks = {asyncio.create_task(coro) for coro in (forward(), until_closed(), watch())}
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in pending:
            task.cancel()
        for task in done:
            failure = None if task.cancelled() else task.exception()
            # a hang-up while sending is the normal end of a stream
            if failure is not None and not isinstance(failure, WebSocketDisconnect | RuntimeError):
                raise failure
    finally:
        context.broker.unsubscribe(subscription)


def _principal(context: AppContext, websocket: WebSocket) -> Principal:
    ticket = websocket.query_params.get("ticket")
    if ticket:
        with context.db.session(write=True) as session:
            claims = take_ticket(session, ticket)
        with context.db.session() as session:
            return ticket_principal(session, claims)
    header = websocket.headers.get("authorization", "")
    credential = websocket.query_params.get("token") or header.removeprefix("Bearer ").strip()
    with context.db.session() as session:
        return authenticate(context, session, credential or None)


def _revocation_reason(context: AppContext, principal: Principal) -> str | None:
    with context.db.session() as session:
        return revocation_reason(session, principal)


def _until_next_check(principal: Principal) -> float:
    """Seconds to the next check: the period, or just past the credential's expiry."""
    if principal.expires_at is None:
        return RECHECK_SECONDS
    left = (principal.expires_at - dt.datetime.now(dt.UTC)).total_seconds()
    return min(RECHECK_SECONDS, max(left, 0.0) + 0.05)
