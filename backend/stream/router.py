from __future__ import annotations

import asyncio

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from backend.api.context import AppContext
from backend.auth.deps import Principal, authenticate
from backend.errors import AppError

router = APIRouter(prefix="/api", tags=["stream"])


@router.websocket("/stream")
async def stream(websocket: WebSocket) -> None:
    """Live updates for the caller: `?token=` (access token or API key) or a Bearer header."""
    context: AppContext = websocket.app.state.context
    header = websocket.headers.get("authorization", "")
    credential = websocket.query_params.get("token") or header.removeprefix("Bearer ").strip()

    def _authenticate() -> Principal:
        with context.db.session() as session:
            return authenticate(context, session, credential or None)

    try:
        principal = await run_in_threadpool(_authenticate)
    except AppError as exc:
        await websocket.close(code=4401, reason=exc.detail[:120])
        return
    await websocket.accept()
    subscription = context.broker.subscribe(principal.user_id)

    async def forward() -> None:
        await websocket.send_json({"type": "hello", "user_id": principal.user_id})
        while True:
            message = await subscription.queue.get()
            if subscription.dropped:
                await websocket.send_json({"type": "overflow", "dropped": subscription.dropped})
                subscription.dropped = 0
            await websocket.send_json(message)

    async def until_closed() -> None:
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass  # clients have nothing to say yet; reading notices a hang-up at once

    tasks = {asyncio.create_task(forward()), asyncio.create_task(until_closed())}
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
