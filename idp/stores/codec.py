"""Serialisation shared by every store, so both hold byte-identical records."""

from __future__ import annotations

import json

from .base import MAX_RECORD_BYTES, Record


def encode(value: Record) -> bytes:
    data = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    if len(data) > MAX_RECORD_BYTES:
        raise ValueError(f"record of {len(data)} bytes exceeds the {MAX_RECORD_BYTES}-byte limit")
    return data


def decode(data: bytes | str | None) -> Record | None:
    if data is None:
        return None
    value = json.loads(data)
    if not isinstance(value, dict):
        raise ValueError("stored record is not an object")
    return value
