"""What ``ncconnect ldap check`` tests on each directory of the registry, and how it explains.

An administrator who connects a directory needs to know *which* step fails and what to change:
the address, TLS, the service account, the base, the login filter, or the attribute names of
the partner file. Each step is one :class:`Check` line. The lines hold no password and no
personal value: a DN or an attribute's value is a citizen's data, so only attribute names and
the partner file's own settings are printed. Every network step is bounded by the file's
``connect_timeout`` / ``search_timeout``, so a directory that accepts and never answers costs
at most that long (the same bounds the proxy uses in ``plugins/ldap/directory.py``).
"""

from __future__ import annotations

import math
import re
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ldap3 import BASE, SIMPLE, SUBTREE, Connection, Server, Tls
from ldap3.core.exceptions import (
    LDAPException,
    LDAPSocketOpenError,
    LDAPSocketReceiveError,
    LDAPStartTLSError,
)

from plugins.ldap.directory import filter_with

from .dictionary import Dictionary
from .dictionary.normalise import readings_for
from .partners import Registry
from .partners.schema import Directory, LdapConnection, Source

#: ``{name}`` or ``{name:format}`` in a directory's match filter.
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?::[^{}]+)?\}")


@dataclass(frozen=True)
class Check:
    """One line of the report: which partner, which step, and ``None`` or what is wrong
    (``skipped``: an earlier step failed, so this one could not be tried; not a failure)."""

    partner: str
    step: str
    problem: str | None = None
    detail: str = ""
    skipped: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None

    def line(self) -> str:
        if self.problem is not None:
            return f"{self.partner}: {self.step}: FAILED: {self.problem}"
        if self.skipped:
            return f"{self.partner}: {self.step}: skipped ({self.detail})"
        return f"{self.partner}: {self.step}: ok" + (f" ({self.detail})" if self.detail else "")


class _Stop(Exception):
    """A step failed: the following steps of this directory cannot be tried."""


@dataclass(frozen=True)
class Target:
    """One directory to test: a source's or an administration directory's connection."""

    label: str
    conn: LdapConnection
    ca_file: str | None
    #: dictionary name -> LDAP names that may carry it (``from:`` or the dictionary's default).
    names: Mapping[str, tuple[str, ...]]
    #: LDAP filter of the sample lookup, and what it looks for (for the messages).
    sample_filter: str
    sample_what: str
    #: The entry's attribute read for the level of assurance (sources), if any.
    loa_attribute: str | None = None


def targets(reg: Registry, dic: Dictionary, login: str | None) -> list[Target]:
    """Every active LDAP source and directory of the registry, in file order."""
    out = []
    for src in reg.sources.values():
        if src.protocol == "ldap" and src.ldap is not None and src.active:
            out.append(_source_target(reg, dic, src, login))
    for d in reg.directories.values():
        if d.active:
            out.append(_directory_target(reg, dic, d))
    return out


def _ldap_names(dic: Dictionary, declared: Mapping[str, object]) -> dict[str, tuple[str, ...]]:
    """The names the backend reads each attribute under (``from:``, or the dictionary's default
    for LDAP): the same :func:`readings_for` the backend is configured with, so the check and
    the logins cannot disagree. ``urn:`` names are not LDAP attribute descriptions."""
    readings = readings_for(dic, "ldap", declared)
    return {name: tuple(n for n in conf["external"] if n and not n.startswith("urn:"))
            for name, conf in readings.items()}


def _ca(reg: Registry, partner_id: str, tls_ca_file: str | None) -> str | None:
    return str(reg.resolve(partner_id, tls_ca_file)) if tls_ca_file else None


def _source_target(reg: Registry, dic: Dictionary, src: Source, login: str | None) -> Target:
    assert src.ldap is not None
    template = src.ldap.login_filter
    if login is None:
        # The administrator's own template with a presence test: any account will do.
        sample, what = template.replace("{login}", "*"), f"an entry matching {template}"
    else:
        sample = filter_with(template, login=login) or "(!(objectClass=*))"
        what = f"the given --login with {template}"
    declared = {n: h.model_dump(by_alias=True) for n, h in src.attributes.items()}
    return Target(f"source {src.id}", src.ldap, _ca(reg, src.id, src.tls_ca_file),
                  _ldap_names(dic, declared), sample, what, src.ldap.loa_attribute)


def _directory_target(reg: Registry, dic: Dictionary, d: Directory) -> Target:
    # The match filter with each placeholder as a presence test: an entry the rule could find.
    sample = _PLACEHOLDER.sub("*", d.match.filter)
    declared = {n: h.model_dump(by_alias=True) for n, h in d.attributes.items()}
    return Target(f"directory {d.id}", d.ldap, _ca(reg, d.id, d.tls_ca_file),
                  _ldap_names(dic, declared), sample,
                  f"an entry with the attributes of match.filter {d.match.filter}")


def run_checks(target: Target, env: Mapping[str, str]) -> Iterator[Check]:
    """The steps in order; after a failed one the rest are reported as not tried."""
    steps = ["connect", "bind", "search base", "sample lookup", "attributes"]
    conn: Connection | None = None
    done = 0
    try:
        conn, detail = _connect(target)
        done += 1
        yield Check(target.label, "connect", detail=detail)
        yield Check(target.label, "bind", detail=_bind(target, conn, env))
        done += 1
        yield Check(target.label, "search base", detail=_base(target, conn))
        done += 1
        entry = _sample(target, conn)
        done += 1
        yield Check(target.label, "sample lookup", detail="1 entry found")
        yield _mapping(target, entry)
        done += 1
    except _Stop as stop:
        yield Check(target.label, steps[done], str(stop))
        for step in steps[done + 1:]:
            yield Check(target.label, step, detail=f"{steps[done]} failed", skipped=True)
    finally:
        if conn is not None:
            try:
                conn.unbind()
            except LDAPException:
                pass


def _timeouts(conn: LdapConnection) -> str:
    return f"connect_timeout {conn.connect_timeout:g}s, search_timeout {conn.search_timeout:g}s"


def _connect(target: Target) -> tuple[Connection, str]:
    c = target.conn
    tls_wanted = c.url.startswith("ldaps://") or c.start_tls
    if target.ca_file is not None and not Path(target.ca_file).is_file():
        raise _Stop(f"tls_ca_file {target.ca_file} not found: fix the path in the partner file")
    tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=target.ca_file,
              version=ssl.PROTOCOL_TLS_CLIENT) if tls_wanted else None
    server = Server(c.url, tls=tls, connect_timeout=c.connect_timeout, get_info=None)
    conn = Connection(server, raise_exceptions=False, read_only=True,
                      receive_timeout=max(math.ceil(c.search_timeout), 1))
    try:
        return _open(conn, c, target.ca_file)
    except _Stop:
        try:
            conn.unbind()  # the socket of a half-open connection (TCP up, TLS refused)
        except LDAPException:
            pass
        raise


def _open(conn: Connection, c: LdapConnection, ca_file: str | None) -> tuple[Connection, str]:
    try:
        conn.open()
        if c.start_tls and not conn.start_tls():
            raise _Stop(f"StartTLS refused by {c.url} ({conn.result.get('description')}): "
                        "configure TLS on the directory or use its ldaps:// address")
    except LDAPStartTLSError as exc:
        if (conn.result or {}).get("result") not in (None, 0):  # the directory said no
            raise _Stop(f"StartTLS refused by {c.url} ({conn.result.get('description')}: "
                        f"{conn.result.get('message')}): configure TLS on the directory "
                        "(olcTLSCertificateFile…) or use its ldaps:// address") from None
        raise _Stop(_tls_problem(c, ca_file, exc)) from None
    except LDAPSocketOpenError as exc:
        if "ssl" in str(exc).lower() or "certificate" in str(exc).lower():
            raise _Stop(_tls_problem(c, ca_file, exc)) from None
        raise _Stop(_open_problem(c, exc)) from None
    except LDAPSocketReceiveError:
        raise _Stop(f"{c.url} accepted the connection but did not answer StartTLS within "
                    f"search_timeout {c.search_timeout:g}s: check that this port is an LDAP "
                    "directory") from None
    except LDAPException as exc:
        raise _Stop(f"{c.url}: {type(exc).__name__}: check url and TLS settings") from None
    how = "ldaps" if c.url.startswith("ldaps://") else ("StartTLS" if c.start_tls else "no TLS")
    return conn, f"{c.url}, {how}, {_timeouts(c)}"


def _open_problem(c: LdapConnection, exc: Exception) -> str:
    text = str(exc).lower()
    if "timed out" in text or "timeout" in text:
        return (f"no TCP connection to {c.url} within connect_timeout {c.connect_timeout:g}s: "
                "check the host, the port and any firewall between the proxy and the directory")
    if "refused" in text:
        return (f"connection refused by {c.url}: the directory is not running or listens on "
                "another port: start it or fix ldap.url")
    if "name or service" in text or "resolve" in text or "address" in text:
        return f"cannot reach {c.url} (host unknown or unreachable): fix the host in ldap.url"
    return f"cannot connect to {c.url} ({type(exc).__name__}): check ldap.url"


def _tls_problem(c: LdapConnection, ca_file: str | None, exc: Exception) -> str:
    trust = f"tls_ca_file {ca_file}" if ca_file else "the system's certificate authorities"
    text = str(exc).lower()
    if "verify" in text or "certificate" in text:
        return (f"TLS with {c.url}: the directory's certificate is not trusted by {trust} (or "
                "does not name this host): set tls_ca_file to the CA that signed it")
    return (f"TLS with {c.url} failed ({type(exc).__name__}): check that the port speaks "
            f"{'ldaps' if c.url.startswith('ldaps://') else 'StartTLS'} and the CA ({trust})")


def _ask(conn: Connection, c: LdapConnection, what: str, call) -> bool:
    """Run one request; a directory silent past the timeout or gone is a :class:`_Stop`."""
    try:
        return bool(call())
    except LDAPSocketReceiveError:
        raise _Stop(f"no answer to the {what} within search_timeout {c.search_timeout:g}s: the "
                    "directory is overloaded or this port is not LDAP; check it or raise "
                    "ldap.search_timeout") from None
    except LDAPException as exc:
        raise _Stop(f"the connection broke during the {what} ({type(exc).__name__}): "
                    "check the directory's log") from None


def _bind(target: Target, conn: Connection, env: Mapping[str, str]) -> str:
    c = target.conn
    if c.bind_dn is None:
        _ask(conn, c, "anonymous bind", conn.bind)
        return "anonymous"
    assert c.bind_password_env is not None
    password = env.get(c.bind_password_env)
    if not password:
        raise _Stop(f"environment variable {c.bind_password_env} is not set: export the "
                    f"service account's password in it (ldap.bind_password_env)")
    conn.authentication, conn.user, conn.password = SIMPLE, c.bind_dn, password
    if _ask(conn, c, "bind", conn.bind):
        return f"as {c.bind_dn}"
    code = conn.result.get("result")
    if code == 49:
        return _refused(f"the directory refused the password of {c.bind_dn} (invalidCredentials):"
                        f" check ldap.bind_dn and the password in {c.bind_password_env}")
    return _refused(f"bind as {c.bind_dn} refused ({conn.result.get('description')}, result "
                    f"{code}): check the service account on the directory")


def _refused(problem: str) -> str:
    raise _Stop(problem)


def _base(target: Target, conn: Connection) -> str:
    c = target.conn
    _ask(conn, c, "search of base_dn", lambda: conn.search(
        c.base_dn, "(objectClass=*)", BASE, attributes=["1.1"],
        time_limit=max(int(c.search_timeout), 1)))
    code = conn.result.get("result")
    if code == 0 and conn.response and any(e.get("type") == "searchResEntry"
                                           for e in conn.response):
        return c.base_dn
    if code == 32:
        contexts = _naming_contexts(conn, c)
        hint = f" (the directory holds {', '.join(contexts)})" if contexts else ""
        raise _Stop(f"base_dn {c.base_dn} does not exist on the directory{hint}: fix "
                    "ldap.base_dn")
    if code == 50:
        raise _Stop(f"the service account may not read base_dn {c.base_dn}: grant it read "
                    "access (ACL) on the directory")
    raise _Stop(f"search of base_dn {c.base_dn} failed ({conn.result.get('description')}, "
                f"result {code})")


def _naming_contexts(conn: Connection, c: LdapConnection) -> list[str]:
    try:
        conn.search("", "(objectClass=*)", BASE, attributes=["namingContexts"],
                    time_limit=max(int(c.search_timeout), 1))
    except LDAPException:
        return []
    for e in conn.response or []:
        if e.get("type") == "searchResEntry":
            values = e.get("attributes", {}).get("namingContexts", [])
            return [str(v) for v in (values if isinstance(values, list) else [values])]
    return []


def _sample(target: Target, conn: Connection) -> Mapping[str, object]:
    c = target.conn
    try:
        _ask(conn, c, "sample lookup", lambda: conn.search(
            c.base_dn, target.sample_filter, SUBTREE, attributes=["*"], size_limit=2,
            time_limit=max(int(c.search_timeout), 1)))
    except _Stop:
        raise
    code = conn.result.get("result")
    if code == 87:  # filterError: the administrator's template is not an LDAP filter
        raise _Stop(f"the directory rejects the filter built from {target.sample_what}: fix "
                    "its syntax in the partner file")
    entries = [e for e in conn.response or [] if e.get("type") == "searchResEntry"]
    if code not in (0, 4) and not entries:
        raise _Stop(f"search for {target.sample_what} failed ({conn.result.get('description')}"
                    f", result {code})")
    if not entries:
        raise _Stop(f"no entry under {c.base_dn} for {target.sample_what}: check the filter's "
                    "attribute names, the base, or that the service account may read them")
    if len(entries) > 1 and "--login" in target.sample_what:
        raise _Stop(f"{len(entries)} entries match {target.sample_what}: a login must find "
                    "one entry; make the login attribute unique or the filter narrower")
    return entries[0].get("attributes", {})


def _mapping(target: Target, entry: Mapping[str, object]) -> Check:
    present = {k.lower() for k, v in entry.items() if v not in (None, [], "")}
    found, missing = [], []
    for name, ldap_names in target.names.items():
        hit = next((n for n in ldap_names if n.lower() in present), None)
        (found if hit else missing).append(f"{name} ({hit or ' or '.join(ldap_names)})")
    if target.loa_attribute:
        label = f"level of assurance ({target.loa_attribute})"
        (found if target.loa_attribute.lower() in present else missing).append(label)
    if missing:
        return Check(target.label, "attributes",
                     f"missing on the sample entry: {', '.join(missing)}; present: "
                     f"{', '.join(found) or 'none'}. Fix the attribute's 'from:' in the "
                     "partner file, or let the service account read it (ACL)")
    return Check(target.label, "attributes", detail=f"all present: {', '.join(found)}")
