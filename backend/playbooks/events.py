"""What live clients hear when the journal changes (published after the commit)."""

from __future__ import annotations

from typing import Any, Literal

Target = Literal["trade", "day", "playbook", "mistake", "attachment"]


def journal_changed(target: Target, key: object) -> dict[str, Any]:
    return {"type": "journal_changed", "target": target, "key": str(key)}
