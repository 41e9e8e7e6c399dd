"""`GET /downloads/<wheel>`: the exporter SDK, so a new user installs it from this server.

The wheel is public on purpose: `pip install <url>` sends no credentials, and it
holds only the SDK's source code, the same for every user (no data, no keys, no
settings). It is built once per process from `exporters/python` (backend/downloads/
wheel.py, no build code runs) and answered only under its exact file name.
`GET /api/downloads/sdk` (authenticated) says that name, its version and sha256.
"""

from __future__ import annotations

import threading
from pathlib import Path

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from backend.api.deps import ContextDep
from backend.auth.deps import CanRead
from backend.config import PROJECT_ROOT
from backend.downloads.wheel import Wheel, build_wheel
from backend.errors import NotFound

SDK_SOURCE = PROJECT_ROOT / "exporters" / "python"
WHEEL_MEDIA_TYPE = "application/zip"

router = APIRouter(tags=["downloads"])
_BUILD = threading.Lock()


class DownloadRead(BaseModel):
    filename: str
    version: str
    path: str = Field(description="where this server serves it, e.g. /downloads/<filename>")
    sha256: str
    size: int = Field(description="bytes")


def sdk_wheel(context_extras: dict[str, object], source: Path = SDK_SOURCE) -> Wheel:
    """The SDK wheel, built on first use and kept for the life of the process."""
    found = context_extras.get("sdk_wheel")
    if found is None:
        with _BUILD:
            found = context_extras.get("sdk_wheel")
            if found is None:
                if not (source / "pyproject.toml").is_file():
                    raise NotFound(
                        "the exporter SDK's source is not part of this installation: "
                        "pip install fillbook-exporter from your package index instead"
                    )
                found = context_extras["sdk_wheel"] = build_wheel(source)
    assert isinstance(found, Wheel), f"extras['sdk_wheel'] is {type(found).__name__}"
    return found


@router.get("/api/downloads/sdk", operation_id="get_sdk_download")
def get_sdk_download(_principal: CanRead, context: ContextDep) -> DownloadRead:
    """The Python exporter SDK wheel this server serves: `pip install <base url><path>`."""
    wheel = sdk_wheel(context.extras)
    return DownloadRead(
        filename=wheel.filename, version=wheel.version, path=f"/downloads/{wheel.filename}",
        sha256=wheel.sha256, size=len(wheel.content),
    )  # fmt: skip


@router.get("/downloads/{filename}", include_in_schema=False)
def download(filename: str, request: Request) -> Response:
    """The wheel under its exact name; any other name is 404 (no paths, no listing)."""
    context = request.app.state.context
    wheel = sdk_wheel(context.extras)
    if filename != wheel.filename:
        raise NotFound(f"no download named {filename!r}; the SDK is {wheel.filename}")
    return Response(
        wheel.content,
        media_type=WHEEL_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{wheel.filename}"',
            "Cache-Control": "no-cache",
            "ETag": f'"{wheel.sha256}"',
        },
    )
