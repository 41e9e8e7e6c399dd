"""Build the exporter SDK's wheel (`exporters/python`) in memory, without running any build code.

A pure-Python wheel is a zip of the package and a `.dist-info` folder (PEP 427,
core metadata 2.1): this writes exactly that from `pyproject.toml` and the files
under `src/`, with fixed timestamps so that the same sources give the same bytes
(and the same sha256). Nothing of setuptools or pip runs in the server, and only
the package's own files go in: no data, no settings, nothing of the user's.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
# Never packed: caches, hidden files, and the metadata an editable install leaves in src/.
_SKIP = re.compile(r"(^|/)(__pycache__|\.[^/]*|[^/]*\.(egg|dist)-info)(/|$)|\.py[co]$")


@dataclass(frozen=True)
class Wheel:
    filename: str
    version: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name)


def _metadata(project: dict[str, Any], readme: str | None) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {dependency}" for dependency in project.get("dependencies", [])]
    for extra, dependencies in sorted(project.get("optional-dependencies", {}).items()):
        lines.append(f"Provides-Extra: {extra}")
        lines += [f'Requires-Dist: {dependency}; extra == "{extra}"' for dependency in dependencies]
    if readme is not None:
        lines.append("Description-Content-Type: text/markdown")
        return "\n".join(lines) + "\n\n" + readme
    return "\n".join(lines) + "\n"


def build_wheel(source: Path) -> Wheel:
    """The wheel of the project at `source` (a folder with pyproject.toml and src/)."""
    config = tomllib.loads((source / "pyproject.toml").read_text())
    project = config["project"]
    name, version = _normalise(project["name"]), str(project["version"])
    src = source / "src"
    files: list[tuple[str, bytes]] = []
    for path in sorted(src.rglob("*")):
        relative = path.relative_to(src).as_posix()
        if path.is_file() and not _SKIP.search(relative):
            files.append((relative, path.read_bytes()))
    if not files:
        raise FileNotFoundError(f"no package files under {src}")
    info = f"{name}-{version}.dist-info"
    readme_path = source / str(project.get("readme", "README.md"))
    readme = readme_path.read_text() if readme_path.is_file() else None
    files.append((f"{info}/METADATA", _metadata(project, readme).encode()))
    files.append((
        f"{info}/WHEEL",
        b"Wheel-Version: 1.0\nGenerator: fillbook\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    ))  # fmt: skip
    scripts = project.get("scripts", {})
    if scripts:
        entry = "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in sorted(scripts.items()))
        files.append((f"{info}/entry_points.txt", entry.encode()))
    tops = sorted({relative.split("/", 1)[0] for relative, _ in files if "/" in relative}
                  - {info})  # fmt: skip
    files.append((f"{info}/top_level.txt", "".join(f"{t}\n" for t in tops).encode()))
    record = "".join(f"{relative},sha256={_digest(data)},{len(data)}\n" for relative, data in files)
    files.append((f"{info}/RECORD", (record + f"{info}/RECORD,,\n").encode()))

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for relative, data in files:
            entry_info = zipfile.ZipInfo(relative, date_time=_EPOCH)
            entry_info.external_attr = 0o644 << 16
            entry_info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry_info, data)
    return Wheel(f"{name}-{version}-py3-none-any.whl", version, buffer.getvalue())


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
