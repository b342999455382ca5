"""Turning pydantic's errors into messages that name the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError


class ConfigError(ValueError):
    """The configuration or a partner file is invalid; the proxy must not start."""


def field_path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(document)"


def explain(path: Path | str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "is required: add it"
        elif err["type"] == "extra_forbidden":
            msg = "is not a known field: remove it or fix its spelling"
        lines.append(f"{path}: {field_path(loc)}: {msg}")
    return "\n".join(lines)
