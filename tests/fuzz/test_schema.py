"""Schemathesis against the live OpenAPI schema of a real backend process, authenticated.

Every operation the schema lists, with valid and invalid inputs: no 5xx, and
every response matches the schema and content type it declares. `make test`
runs a few examples per operation; `make fuzz` (FILLBOOK_FUZZ_EXAMPLES) many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.conftest import _postgres_database
from tests.ingest.helpers import CONTRACT_EVENTS, batch, fill
from tests.live_server import Account, LiveServer

EXAMPLES = int(os.environ.get("FILLBOOK_FUZZ_EXAMPLES", "4"))
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# The journal import takes JSON lines: sent as the text schemathesis generates.
schemathesis.serializer.alias("application/x-ndjson", "text/plain")
# Operations that would end the session or lock the fuzzing user out of its own data.
SKIPPED = {"revoke_api_key", "update_user"}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    url = None
    if request.param == "postgresql":
        url = _postgres_database(request.getfixturevalue("postgres_server"))
    with LiveServer(Path(tmp_path_factory.mktemp("fuzz")), database_url=url) as live:
        yield live


@pytest.fixture(scope="module")
def account(server: LiveServer) -> Account:
    """A user with a run, trades, orders and bars, so that ids 1 and 2 lead somewhere."""
    account = server.create_account("fuzzer")
    events = [*CONTRACT_EVENTS[:-1], fill("x2", "2023-12-15T14:40:00Z", "sell", 2, 4705.0)]
    with httpx.Client(base_url=server.url, headers=account.ingest_headers, timeout=30) as http:
        assert http.post("/api/ingest", json=batch(events)).status_code == 200
        assert http.post("/api/ingest", json=batch(CONTRACT_EVENTS[-1:])).status_code == 200
    return account


def _operations(server: LiveServer) -> list[APIOperation[Any, Any, Any, Any]]:
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    return [op for op in operations if op.definition.raw.get("operationId") not in SKIPPED]


class TestFuzz:
    @pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
    def test_no_server_errors_and_responses_match_the_schema(
        self, server: LiveServer, account: Account, mode: GenerationMode
    ) -> None:
        failures: list[str] = []
        operations = _operations(server)
        assert len(operations) >= 30
        for operation in operations:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))  # fmt: skip
            def run(case: Any) -> None:
                case.call_and_validate(headers=account.headers, checks=CHECKS, timeout=30)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to make invalid (no parameters, no body): the positive run covers it
            except (Exception, BaseExceptionGroup) as exc:  # report every operation's failure
                failures.append(f"{operation.label}: {str(exc)[:1500]}")
        assert server.running
        assert not failures, "\n\n".join(failures)
