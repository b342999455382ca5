"""Reading sealed store records in tests, the way the proxy does (:mod:`idp.stores.sealing`).

The store holds no value in clear; a test that wants to see what the proxy kept (the
NameID a service received, what the source needs for its logout) opens the record with
the browser's cookie and with the at-rest key of a federation built in this process
(:func:`idp.testbed.federation.build_federation` registers each one here).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from idp.sso.session import NAMESPACE, SERVICES_NAMESPACE, SessionStore, digest
from idp.stores import Store
from idp.stores.sealing import AtRestKey, Unsealable, unseal

_key_files: list[Path] = []


def register_at_rest_key(path: Path) -> None:
    if path not in _key_files:
        _key_files.append(path)


def _keys() -> list[AtRestKey]:
    return [AtRestKey.from_file(p) for p in _key_files if p.is_file()]


def _at_rest_unseal(namespace: str, key: str, blob: object) -> tuple[Any, AtRestKey]:
    for at_rest in _keys():
        try:
            return at_rest.unseal(namespace, key, blob), at_rest
        except Unsealable:
            continue
    raise Unsealable("no known at-rest key opens this record")


def session_record(store: Store, cookie: str) -> dict[str, Any] | None:
    """The SSO session record of ``cookie``, opened: its readable fields plus ``subject``,
    ``attributes`` and ``source_session`` in clear."""
    key = digest(cookie)
    record = store.get(NAMESPACE, key)
    if record is None:
        return None
    opened = unseal(cookie, NAMESPACE, key, record["sealed"])
    source_session = record.get("source_session")
    if source_session is not None:
        source_session = _at_rest_unseal(NAMESPACE, key, source_session)[0]
    return {**record, **opened, "source_session": source_session}


def put_session_record(store: Store, record: dict[str, Any], ttl: int) -> None:
    """Write back an opened record (as a test changed it), sealed as the proxy seals it; the
    cookie-sealed part is kept as it was."""
    stored = {k: v for k, v in record.items() if k not in ("subject", "attributes")}
    if stored.get("source_session") is not None:
        kept = (store.get(NAMESPACE, record["key"]) or {}).get("source_session")
        at_rest = _at_rest_unseal(NAMESPACE, record["key"], kept)[1] if kept else _keys()[-1]
        stored["source_session"] = at_rest.seal(NAMESPACE, record["key"],
                                                stored["source_session"])
    store.put(NAMESPACE, record["key"], stored, ttl)


def service_entries(store: Store, sid: str) -> dict[str, dict[str, Any]]:
    """The services a session answered, subjects opened with the at-rest key."""
    raw = store.items(SERVICES_NAMESPACE, sid)
    if not raw:
        return {}
    first_item, first = next(iter(raw.items()))
    _, at_rest = _at_rest_unseal(SERVICES_NAMESPACE, f"{sid}\x1f{first_item}",
                                 first.get("subject_sealed"))
    return SessionStore(store, 1, 1, at_rest).services(sid)
