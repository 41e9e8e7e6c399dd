"""Every endpoint the app serves, read from the app itself, so new routers are covered unedited.

The suites iterate over `catalogue(app)` instead of a hand-written list: a route
added by any feature is checked for authentication, ownership and key rights (the
scope an API key needs, read from the route's dependencies) as soon as it is included
in `backend/api/routers.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from backend.auth.deps import get_admin, get_interactive_user, required_scope
from backend.auth.scopes import Scope

# What the issue exempts from authentication: register, login, health; plus the schema
# and its docs pages, which describe the API without touching anyone's data.
PUBLIC_OPERATIONS = frozenset({"health", "register", "login"})
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    operation_id: str
    path_params: tuple[str, ...]
    path_schemas: dict[str, dict[str, Any]]  # name → schema of each path parameter
    required_query: dict[str, dict[str, Any]]  # name → schema of each required query parameter
    body_schema: dict[str, Any] | None
    body_media: str | None
    needs_person: bool  # depends on CurrentUser: an API key is refused (403)
    needs_admin: bool
    scope: Scope | None  # the scope an API key needs (a person passes); None: no scope check

    @property
    def public(self) -> bool:
        return self.operation_id in PUBLIC_OPERATIONS

    def url(self, values: dict[str, object]) -> str:
        """The path with its parameters filled in; an unknown parameter gets 1 (the first id)."""
        return _PARAM.sub(lambda m: str(values.get(m.group(1), 1)), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _routes(nested.routes)
        else:
            yield route


def _depends_on(dependant: Dependant, target: Callable[..., Any]) -> bool:
    return any(
        dep.call is target or _depends_on(dep, target) for dep in dependant.dependencies
    )


def _scopes(dependant: Dependant) -> set[Scope]:
    found = set()
    for dep in dependant.dependencies:
        scope = required_scope(dep.call)
        if scope is not None:
            found.add(scope)
        found |= _scopes(dep)
    return found


def _scope(route: APIRoute) -> Scope | None:
    scopes = _scopes(route.dependant)
    assert len(scopes) <= 1, f"{route.path} checks several scopes: {sorted(scopes)}"
    return next(iter(scopes), None)


def catalogue(app: FastAPI) -> list[Endpoint]:
    """Every HTTP API endpoint (`/api/...` and `/metrics`), from the routes and OpenAPI."""
    schema = app.openapi()
    found = []
    for route in _routes(app.router.routes):
        if not isinstance(route, APIRoute):
            continue
        if not (route.path.startswith("/api/") or route.path == "/metrics"):
            continue  # the dashboard's static pages
        for method in sorted(route.methods or ()):
            operation = schema["paths"].get(route.path, {}).get(method.lower(), {})
            content = operation.get("requestBody", {}).get("content", {})
            media = next(iter(content), None)
            found.append(
                Endpoint(
                    method=method,
                    path=route.path,
                    operation_id=route.operation_id or route.name,
                    path_params=tuple(_PARAM.findall(route.path)),
                    path_schemas={
                        p["name"]: p["schema"]
                        for p in operation.get("parameters", [])
                        if p["in"] == "path"
                    },
                    required_query={
                        p["name"]: p["schema"]
                        for p in operation.get("parameters", [])
                        if p["in"] == "query" and p.get("required")
                    },
                    body_schema=content[media]["schema"] if media else None,
                    body_media=media,
                    needs_person=_depends_on(route.dependant, get_interactive_user),
                    needs_admin=_depends_on(route.dependant, get_admin),
                    scope=_scope(route),
                )
            )
    return found


def minimal_body(schema: dict[str, Any] | None, components: dict[str, Any]) -> Any:
    """The smallest instance of a JSON schema that validates: required properties only."""
    if schema is None:
        return None
    if "$ref" in schema:
        return minimal_body(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return minimal_body(schema[key][0], components)
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "object")
    if kind == "object":
        return {
            name: minimal_body(schema["properties"][name], components)
            for name in schema.get("required", [])
        }
    if kind == "array":
        return [minimal_body(schema.get("items", {}), components)] * schema.get("minItems", 0)
    if kind == "string":
        return "x" * max(1, schema.get("minLength", 1))
    if kind in ("integer", "number"):
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    return None
