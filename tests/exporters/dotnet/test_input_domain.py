"""The C# exporter's input-domain constants equal the service's (backend/ingest/domain.py).

exporters/dotnet/src/Fillbook.Exporter/InputDomain.cs mirrors them so the exporter can refuse
an event in the call that builds it; this reads the C# source (no Mono needed) so the two
cannot drift apart.
"""

from __future__ import annotations

import json
import re

import pytest

from backend.ingest import domain
from tests.live_server import PROJECT_ROOT

INPUT_DOMAIN_CS = (
    PROJECT_ROOT / "exporters" / "dotnet" / "src" / "Fillbook.Exporter" / "InputDomain.cs"
)
_CONST = re.compile(r"public const (long|int|double|string) (\w+) = ([^;]+);")

# C# name -> backend/ingest/domain.py name
MIRRORED = {
    "MaxTsNs": "MAX_TS_NS",
    "MaxTsText": "MAX_TS_TEXT",
    "MinAmount": "MIN_AMOUNT",
    "MaxAmount": "MAX_AMOUNT",
    "MaxCapital": "MAX_CAPITAL",
    "MaxTimeframeSeconds": "MAX_TIMEFRAME_SECONDS",
}


def csharp_constants() -> dict[str, int | float | str]:
    """The `public const` values of InputDomain.cs, as Python values."""
    constants: dict[str, int | float | str] = {}
    for kind, name, literal in _CONST.findall(INPUT_DOMAIN_CS.read_text(encoding="utf-8")):
        text = literal.strip()
        if kind == "string":
            constants[name] = json.loads(text)  # a plain C# string literal is valid JSON
        elif kind == "double":
            constants[name] = float(text.removesuffix("d").removesuffix("D"))
        else:
            constants[name] = int(text.removesuffix("L").removesuffix("l"))
    return constants


class TestInputDomainMirror:
    @pytest.mark.parametrize(("csharp", "python"), MIRRORED.items())
    def test_constant_equals_the_backends(self, csharp: str, python: str) -> None:
        constants = csharp_constants()
        assert csharp in constants, f"InputDomain.cs has no `public const ... {csharp}`"
        expected = getattr(domain, python)
        assert constants[csharp] == expected, (
            f"InputDomain.{csharp} = {constants[csharp]!r} but backend.ingest.domain.{python} "
            f"= {expected!r}; change both together"
        )
        assert type(constants[csharp]) is type(expected)

    def test_nanosecond_floor_is_ten_to_the_17(self) -> None:
        # backend/ingest/timestamps.py reads smaller integers as seconds, ms or microseconds.
        assert csharp_constants()["MinEpochNanoseconds"] == 10**17
