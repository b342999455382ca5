"""One LDAP directory, as the proxy talks to it: bounded, escaped, reconnecting.

SATOSA's ``ldap_attribute_store`` formats filters with ``str.format`` (an injection) and
keeps a pool that never reconnects once the directory restarts (SATOSA #173). Here:

* every value put in a filter goes through ldap3's ``escape_filter_chars``
  (:meth:`Directory.find`): the filter's shape is the administrator's, never the citizen's;
* connecting, binding and each search are bounded by the configured timeouts, so a
  directory that accepts the connection and never answers costs at most that long;
* one service connection per process (gunicorn's workers are processes), rebuilt on the
  next call after any failure: a directory restarted under a running proxy is used again
  without restarting the proxy;
* a password is checked by binding as the entry, on a connection of its own, never by
  reading or comparing ``userPassword``.

Failures of the directory itself are :class:`DirectoryUnavailable` (the caller shows its own
page); a refused bind is an answer (:meth:`Directory.bind`), not an error.
"""

from __future__ import annotations

import logging
import math
import ssl
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ldap3 import (
    AUTO_BIND_NO_TLS,
    AUTO_BIND_TLS_BEFORE_BIND,
    SUBTREE,
    Connection,
    Server,
    Tls,
)
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

logger = logging.getLogger("ncconnect.ldap")

#: Longest value placed in a filter (a login, a name): longer input is not looked up.
MAX_FILTER_VALUE = 256


class DirectoryUnavailable(RuntimeError):
    """The directory cannot be reached or did not answer in time."""


@dataclass(frozen=True)
class DirectorySettings:
    """How to reach one directory (from its partner file; the password from the environment)."""

    name: str
    url: str
    base_dn: str
    bind_dn: str | None = None
    bind_password: str | None = None
    start_tls: bool = False
    ca_file: str | None = None
    connect_timeout: float = 3.0
    search_timeout: float = 5.0

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> DirectorySettings:
        return cls(name=str(conf["name"]), url=str(conf["url"]), base_dn=str(conf["base_dn"]),
                   bind_dn=conf.get("bind_dn"), bind_password=conf.get("bind_password"),
                   start_tls=bool(conf.get("start_tls", False)), ca_file=conf.get("ca_file"),
                   connect_timeout=float(conf.get("connect_timeout", 3.0)),
                   search_timeout=float(conf.get("search_timeout", 5.0)))


def filter_with(template: str, **values: str) -> str | None:
    """``template`` (``(uid={login})``) with every value escaped; ``None`` when a value is not
    something a directory could hold (too long, NUL, not text)."""
    escaped = {}
    for name, value in values.items():
        if not isinstance(value, str) or not value or len(value) > MAX_FILTER_VALUE \
                or "\x00" in value:
            return None
        escaped[name] = escape_filter_chars(value)
    return template.format(**escaped)


class Directory:
    def __init__(self, settings: DirectorySettings) -> None:
        self.settings = settings
        self.server = self._new_server()
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    def _new_server(self) -> Server:
        """ldap3 remembers an address that failed and refuses it for a while ("invalid server
        address"): after a failure we start from a new ``Server``, so a directory that is back
        is used at once."""
        settings = self.settings
        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file,
                  version=ssl.PROTOCOL_TLS_CLIENT) \
            if settings.url.startswith("ldaps://") or settings.start_tls else None
        return Server(settings.url, tls=tls, connect_timeout=settings.connect_timeout,
                      get_info=None)

    def _connect(self, user: str | None, password: str | None) -> Connection:
        return Connection(
            self.server, user=user, password=password, raise_exceptions=True,
            receive_timeout=max(math.ceil(self.settings.search_timeout), 1), read_only=True,
            auto_bind=AUTO_BIND_TLS_BEFORE_BIND if self.settings.start_tls else AUTO_BIND_NO_TLS)

    def _service(self) -> Connection:
        if self._conn is None or self._conn.closed or not self._conn.bound:
            self._conn = self._connect(self.settings.bind_dn, self.settings.bind_password)
        return self._conn

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self.server = self._new_server()
        if conn is not None:
            try:
                conn.unbind()
            except LDAPException:
                pass

    def search(self, ldap_filter: str, attributes: Sequence[str], base: str | None = None,
               limit: int = 2) -> list[tuple[str, dict[str, list[str]]]]:
        """(DN, attributes) of at most ``limit`` entries; one reconnection is tried when the
        kept connection turns out dead (the directory restarted). A connection made for this
        call that fails is not retried: a directory that does not answer costs one timeout."""
        for attempt in (1, 2):
            with self._lock:
                kept = self._conn is not None
                try:
                    conn = self._service()
                    conn.search(base or self.settings.base_dn, ldap_filter, SUBTREE,
                                attributes=list(attributes), size_limit=limit,
                                time_limit=max(int(self.settings.search_timeout), 1))
                    return [(e["dn"], {k: [str(x) for x in (v if isinstance(v, list) else [v])]
                                       for k, v in e["attributes"].items()})
                            for e in conn.response if e.get("type") == "searchResEntry"]
                except LDAPException as exc:
                    self._drop()
                    if attempt == 2 or not kept:
                        logger.warning("directory unavailable",
                                       extra={"directory": self.settings.name,
                                              "reason": type(exc).__name__})
                        raise DirectoryUnavailable(
                            f"{self.settings.name}: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")

    def find(self, template: str, attributes: Sequence[str], limit: int = 2,
             **values: str) -> list[tuple[str, dict[str, list[str]]]]:
        """:meth:`search` with ``template`` filled by escaped ``values``; nothing for a value
        no entry could match (see :func:`filter_with`)."""
        ldap_filter = filter_with(template, **values)
        return [] if ldap_filter is None else self.search(ldap_filter, attributes, limit=limit)

    def bind(self, dn: str, password: str,
             controls: Sequence[tuple[str, bool, Any]] = ()) -> tuple[bool, dict[str, Any]]:
        """Bind as ``dn`` on a connection of its own (never the service connection): whether
        the directory accepted the password, and its result (code, description, response
        controls such as the password policy's). The directory's own trouble — unreachable,
        silent, busy — is :class:`DirectoryUnavailable`; a refusal is an answer."""
        conn = Connection(self.server, user=dn, password=password, raise_exceptions=False,
                          receive_timeout=max(math.ceil(self.settings.search_timeout), 1),
                          read_only=True)
        try:
            conn.open()
            if self.settings.start_tls:
                conn.start_tls()
            accepted = conn.bind(controls=list(controls) or None)
            return bool(accepted), dict(conn.result or {})
        except LDAPException as exc:
            self.server = self._new_server()
            raise DirectoryUnavailable(f"{self.settings.name}: {type(exc).__name__}") from exc
        finally:
            try:
                conn.unbind()
            except LDAPException:
                pass
