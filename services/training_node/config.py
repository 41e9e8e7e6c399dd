"""The node's settings, from the environment.

| variable | default | meaning |
|---|---|---|
| `TRAINING_NODE_TOKEN` | (required) | the service token, sent as `Authorization: Bearer ...` |
| `TRAINING_NODE_DATA_DIR` | `data/training_node` | job store (`jobs.db`) and each job's folder |
| `TRAINING_NODE_MAX_WORKERS` | `1` | jobs trained at the same time, one process each |
| `TRAINING_NODE_TF_THREADS` | `1` | TensorFlow threads per worker process |
| `TRAINING_NODE_CANCEL_GRACE_S` | `10` | a cancelled worker's time to stop before it is killed |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
MIN_TOKEN_LENGTH = 16


@dataclass(frozen=True)
class NodeConfig:
    token: str
    data_dir: Path
    max_workers: int = 1
    tf_threads: int = 1
    cancel_grace_s: float = 10.0

    def __post_init__(self) -> None:
        if len(self.token) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"TRAINING_NODE_TOKEN must be at least {MIN_TOKEN_LENGTH} characters, "
                f"got {len(self.token)}"
            )
        if self.max_workers < 1:
            raise ValueError(f"TRAINING_NODE_MAX_WORKERS must be >= 1, got {self.max_workers}")
        if self.tf_threads < 1:
            raise ValueError(f"TRAINING_NODE_TF_THREADS must be >= 1, got {self.tf_threads}")

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> NodeConfig:
        env = dict(os.environ if environ is None else environ)
        token = env.get("TRAINING_NODE_TOKEN", "").strip()
        if not token:
            raise ValueError(
                "TRAINING_NODE_TOKEN is not set: the node refuses to start without the service "
                "token the backend sends (run_server.py passes it when it starts the node)"
            )
        return cls(
            token=token,
            data_dir=Path(env.get("TRAINING_NODE_DATA_DIR") or PROJECT_ROOT / "data/training_node"),
            max_workers=int(env.get("TRAINING_NODE_MAX_WORKERS", "1")),
            tf_threads=int(env.get("TRAINING_NODE_TF_THREADS", "1")),
            cancel_grace_s=float(env.get("TRAINING_NODE_CANCEL_GRACE_S", "10")),
        )
