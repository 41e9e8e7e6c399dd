"""Write the app's OpenAPI schema to a file: the input of the dashboard's generated client.

    python -m backend.api.openapi_dump frontend/openapi.json

`npm run gen:api` (in frontend/) turns that file into `src/api/schema.d.ts`; a test
checks the committed file still equals the running app's schema.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

from backend.api.app import create_app
from backend.config import Settings

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"


def current_schema() -> dict[str, Any]:
    """The schema of an app built with throwaway settings (nothing is started or written)."""
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            data_dir=Path(data_dir),
            database_url=f"sqlite:///{data_dir}/schema.db",
            secret_key="openapi-dump-" + "x" * 40,
        )
        app = create_app(settings)
        schema = app.openapi()
        app.state.context.db.dispose()
        return schema


def render(schema: dict[str, Any]) -> str:
    """Stable text: sorted keys, two-space indent, trailing newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m backend.api.openapi_dump")
    parser.add_argument("path", nargs="?", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    args.path.write_text(render(current_schema()))


if __name__ == "__main__":
    main()
