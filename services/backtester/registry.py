"""The strategy registry: every plug-in by name, with its description and parameters."""

from __future__ import annotations

import importlib
from typing import Any, TypeVar

from services.backtester.strategy import Strategy

_REGISTRY: dict[str, type[Strategy]] = {}
S = TypeVar("S", bound=type[Strategy])
BUILT_IN_MODULES = (
    "services.backtester.strategies.ma_cross",
    "services.backtester.strategies.rsi_reversion",
    "services.backtester.strategies.donchian",
)


def register(cls: S) -> S:
    """Class decorator: make a strategy available by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"strategy name {cls.name!r} is taken by {existing.__qualname__}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_built_ins() -> None:
    for module in BUILT_IN_MODULES:
        importlib.import_module(module)


def get(name: str) -> type[Strategy]:
    """The strategy class called `name`; ValueError listing the known ones otherwise."""
    _load_built_ins()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {sorted(_REGISTRY)}") from None


def all_strategies() -> list[type[Strategy]]:
    _load_built_ins()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def describe(cls: type[Strategy]) -> dict[str, Any]:
    return {
        "name": cls.name,
        "description": cls.description,
        "parameters": [parameter.describe() for parameter in cls.parameters],
    }


def catalogue() -> list[dict[str, Any]]:
    """Every registered strategy with its parameters (what `GET /api/strategies` serves)."""
    return [describe(cls) for cls in all_strategies()]
