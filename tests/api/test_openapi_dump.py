"""The dashboard's generated client must match the app: regenerate with

    .venv/bin/python -m backend.api.openapi_dump && (cd frontend && npm run gen:api)
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from backend.api.openapi_dump import DEFAULT_PATH, current_schema, render

FRONTEND = DEFAULT_PATH.parent
GENERATOR = FRONTEND / "node_modules" / ".bin" / "openapi-typescript"


class TestOpenApiDump:
    def test_committed_schema_is_the_apps(self) -> None:
        assert DEFAULT_PATH.read_text() == render(current_schema()), (
            "frontend/openapi.json is stale: run `.venv/bin/python -m backend.api.openapi_dump` "
            "and `npm run gen:api` in frontend/, and commit both files"
        )

    def test_render_is_stable(self) -> None:
        schema = current_schema()
        assert render(schema) == render(current_schema())
        assert render(schema).endswith("}\n")

    @pytest.mark.skipif(
        not GENERATOR.exists() or shutil.which("node") is None,
        reason="frontend/node_modules is not installed (make test installs it)",
    )
    def test_generated_client_types_match_the_schema(self, tmp_path: Path) -> None:
        out = tmp_path / "schema.d.ts"
        subprocess.run(
            [str(GENERATOR), str(DEFAULT_PATH), "-o", str(out)],
            cwd=FRONTEND, check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        committed = (FRONTEND / "src" / "api" / "schema.d.ts").read_text()
        assert out.read_text() == committed, "run `npm run gen:api` in frontend/ and commit it"
