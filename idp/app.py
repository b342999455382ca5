"""The WSGI application: SATOSA's router and plugin chain, with our own edges.

We keep SATOSA's contracts (frontends, backends, micro-services, ``Context``,
``State``) and replace what sits around them:

* flow state lives server-side in the shared store, keyed by an opaque cookie,
  so any worker serves any step and the cookie carries no personal data;
* request bodies are bounded and parsed without ever raising;
* every failure ends on a French page of ours with the right status, never a
  redirect to an unverified URL and never a bare 500 for hostile input;
* every response carries framing, caching and content-security headers.
"""

from __future__ import annotations

import hashlib
import json
import logging
import mimetypes
import secrets
import time
import uuid
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from satosa.base import SATOSABase
from satosa.context import Context
from satosa.exception import (
    SATOSAAuthenticationError,
    SATOSAMissingStateError,
    SATOSANoBoundEndpointError,
    SATOSAStateError,
)
from satosa.response import Response
from satosa.state import State

from . import correlation
from .errors import FlowError
from .headers import secure_headers
from .health import Readiness
from .login_trail import LoginTrail
from .messages import MESSAGES
from .metrics import definitions as metrics
from .metrics.exposition import CONTENT_TYPE as METRICS_CONTENT_TYPE
from .metrics.exposition import exposition, token_ok
from .metrics.labels import OTHER, step_of
from .pages import STATUS_TEXT, error_page
from .refusals import REASONS, reason_of
from .stores import Put, Store, StoreUnavailable, open_store
from .stores.sealing import Unsealable, seal, unseal
from .uploads import FILES_DECORATION, parse_multipart

logger = logging.getLogger("ncconnect.app")

STATIC = Path(__file__).parent / "static"
#: ``__Host-``: the browser only accepts it Secure, from this host, for Path=/ (no Domain),
#: so a sibling site or a plain-http page can never plant or shadow a flow id.
FLOW_COOKIE = "__Host-ncc_flux"
FLOW_NAMESPACE = "flow"
FLOW_ID_DECORATION = "ncc.flow_id"
#: Records a step stores for a later request, written with the flow state in one round trip.
WRITES_DECORATION = "ncc.writes_with_flow"
#: The flow state as opened at the start of the request (its canonical JSON, a copy nothing
#: can mutate), to write it back only when the request changed it.
FLOW_LOADED_DECORATION = "ncc.flow_loaded"
REPEATED_DECORATION = "ncc.repeated_params"
MAX_FIELDS = 100
#: Endpoints called server-to-server: errors are JSON, not pages.
MACHINE_ENDPOINTS = frozenset({"oidc/token", "oidc/userinfo"})
MAX_QUERY = 8192


def flow_id(context: Context) -> str:
    """The opaque id of the login flow this request belongs to (CSRF binding)."""
    return context.get_decoration(FLOW_ID_DECORATION) or ""


def flow_key(fid: str) -> str:
    """Where a flow's state is stored: the SHA-256 of the cookie value, never the value."""
    return hashlib.sha256(fid.encode("utf-8", errors="surrogatepass")).hexdigest()


def flow_ref(context: Context) -> str:
    """What other records keep to bind themselves to this flow (the flow's store key): a copy
    of the store must hand out neither the flow cookie nor the key that opens its state."""
    return flow_key(flow_id(context))


def write_with_flow(context: Context, store: Store, *puts: Put) -> None:
    """Store ``puts`` with this request's flow state: in the same round trip (one
    ``MULTI/EXEC``, one SQLite transaction), in order, before the response leaves. Only for
    records this request does not read back (a pending OAuth ``state``, an outstanding
    AuthnRequest, a parked consent, a history entry, a new SSO session and the services it
    answered); should the request fail, they are not written, like the flow state. Outside
    the application (a plugin driven on its own), written at once."""
    pending = context.get_decoration(WRITES_DECORATION)
    if pending is None:
        store.put_many(list(puts))
    else:
        pending.extend((store, put) for put in puts)


def repeated_params(context: Context) -> frozenset[str]:
    """Names that appeared more than once in this request's query or form body.

    The parsed parameters keep the first copy of each; a protocol endpoint must refuse a
    message whose parameters are repeated (which copy a signature covers, and which one a
    library reads, may differ: that gap is how a second, unsigned message slips through)."""
    return context.get_decoration(REPEATED_DECORATION) or frozenset()


def _canonical(data: Any) -> str | None:
    """The flow state as comparable text; ``None`` (always "changed") if it is not JSON."""
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return None


def _parse(data: str, repeated: set[str]) -> dict[str, str]:
    # Never raises: bad percent-escapes become U+FFFD; repeated keys keep the first and are
    # added to ``repeated``; more than MAX_FIELDS fields (parse_qsl's ValueError) is no
    # request of ours: empty.
    out: dict[str, str] = {}
    try:
        pairs = parse_qsl(data, keep_blank_values=True, max_num_fields=MAX_FIELDS,
                          errors="replace")
    except ValueError:
        return out
    for k, v in pairs:
        if k in out:
            repeated.add(k)
        out.setdefault(k, v)
    return out


class NCConnectApp(SATOSABase):
    def __init__(self, config: dict[str, Any], store_url: str, flow_ttl: int,
                 max_body: int, https: bool, readiness: Readiness | None = None,
                 metrics_token_sha256: str | None = None, key_ages=None) -> None:
        super().__init__(config)
        self.store = open_store(store_url)
        self.flow_ttl = flow_ttl
        self.max_body = max_body
        self.https = https
        #: Metrics and audit events of every login (:mod:`idp.login_trail`).
        self.trail = LoginTrail(config.get("NCC_OBSERVABILITY"))
        self.backend_names = frozenset(self.trail.source_protocols) | {"ncconnect:sso"}
        self.readiness = readiness or Readiness({"store": self.store.ping}, {})
        self.metrics_token_sha256 = metrics_token_sha256
        self.key_ages = key_ages

    # -- WSGI edge -------------------------------------------------------------

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        try:
            resp = self._handle(environ)
        except Exception:  # last resort: still a page of ours, never a traceback
            ref = uuid.uuid4().hex[:12]
            logger.exception("unhandled error", extra={"error_ref": ref})
            resp = error_page("erreur_interne", None, 500, ref)
        return self._send(resp, start_response)

    def _send(self, resp: Response, start_response) -> list[bytes]:
        body = resp.message
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = [(k, v) for k, v in resp.headers if k.lower() != "content-length"]
        headers = secure_headers(headers, self.https)
        headers.append(("Content-Length", str(len(body or b""))))
        start_response(resp.status, headers)
        return [body or b""]

    def _handle(self, environ: dict) -> Response:
        path = environ.get("PATH_INFO", "").lstrip("/")
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "POST", "HEAD"):
            return error_page("methode_non_autorisee", None, 405)
        if path.startswith("static/"):
            return self._static(path[len("static/"):])
        if path == "healthz":
            return Response("ok", content="text/plain")
        if path == "readyz":
            return self._ready()
        if path == "metrics":
            return self._metrics(environ)
        if path.startswith("logos/"):
            return self._logo(path[len("logos/"):])
        if not path or ".." in path or len(environ.get("QUERY_STRING", "")) > MAX_QUERY:
            return error_page("page_inconnue", None, 404)

        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body:
            return error_page("requete_trop_grande", None, 413)
        body = environ["wsgi.input"].read(length) if length else b""

        context = Context()
        context.path = path
        context.request_method = method
        context.request_uri = environ.get("REQUEST_URI") or environ.get("RAW_URI")
        repeated: set[str] = set()
        context.qs_params = _parse(environ.get("QUERY_STRING", ""), repeated)
        if method == "POST":
            ctype = environ.get("CONTENT_TYPE", "")
            text = body.decode("utf-8", errors="replace")
            context.request = (_parse(text, repeated)
                               if "application/x-www-form-urlencoded" in ctype else {})
            if ctype.startswith("multipart/form-data"):
                context.request, files = parse_multipart(body, ctype, repeated, MAX_FIELDS)
                context.decorate(FILES_DECORATION, files)
        else:
            context.request = dict(context.qs_params)
        context.decorate(REPEATED_DECORATION, frozenset(repeated))
        context.server = {k: v for k, v in environ.items() if k.startswith("SERVER_")}
        context.http_headers = {k: v for k, v in environ.items()
                                if k.startswith(("HTTP_", "REMOTE_"))}
        context.cookie = context.http_headers.get("HTTP_COOKIE", "")
        context.request_authorization = context.http_headers.get("HTTP_AUTHORIZATION", "")
        context.decorate("ncc.raw_body", body)
        return self.run(context)

    def _static(self, name: str) -> Response:
        file = (STATIC / name).resolve()
        if STATIC.resolve() not in file.parents or not file.is_file():
            return error_page("page_inconnue", None, 404)
        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return Response(file.read_text(encoding="utf-8"), content=ctype,
                        headers=[("Cache-Control", "public, max-age=3600")])

    def _logo(self, partner_id: str) -> Response:
        """Partner logos, from the files the registry checked (type and size) at start."""
        file = (self.config.get("NCC_LOGOS") or {}).get(partner_id)
        ctype = mimetypes.guess_type(file)[0] if file else None
        try:
            data = Path(file).read_bytes() if file and ctype else None
        except OSError:
            data = None
        if data is None:
            return error_page("page_inconnue", None, 404)
        # An SVG opened on its own is still under our CSP (no inline script can run).
        return Response(data, content=ctype, headers=[("Cache-Control", "public, max-age=3600")])

    def _ready(self) -> Response:
        ready, body = self.readiness.report()
        return Response(body, status=STATUS_TEXT[200 if ready else 503],
                        content="application/json", headers=[("Cache-Control", "no-store")])

    def _metrics(self, environ: dict) -> Response:
        """The exposition text, for the bearer of the settings' token only; without a token
        configured, there is no such page."""
        if not self.metrics_token_sha256:
            return error_page("page_inconnue", None, 404)
        if not token_ok(environ.get("HTTP_AUTHORIZATION", ""), self.metrics_token_sha256):
            return Response("bearer token required", status=STATUS_TEXT[401],
                            content="text/plain",
                            headers=[("WWW-Authenticate", 'Bearer realm="metrics"')])
        return Response(exposition(self.key_ages), content=METRICS_CONTENT_TYPE,
                        headers=[("Cache-Control", "no-store")])

    # -- SATOSA core -----------------------------------------------------------

    def run(self, context: Context) -> Response:
        step = step_of(context.path or "", self.backend_names)
        started = time.perf_counter()
        try:
            return self._run_step(context, step)
        finally:
            metrics.STEP_SECONDS.labels(step).observe(time.perf_counter() - started)
            correlation.bind(None)

    def _run_step(self, context: Context, step: str) -> Response:
        try:
            self._load_state(context)
            self.trail.bind(context, context.state.get(correlation.STATE_KEY)
                            or correlation.new_login_id())
            spec = self.module_router.endpoint_routing(context)
            correlation.bind_source(context.target_backend)
            resp = self._run_bound_endpoint(context, spec)
            if isinstance(resp, Exception):
                raise resp
            self._save_state(resp, context)
            return resp
        except FlowError as exc:
            logger.warning("login stopped", extra={"code": exc.code, "detail": exc.detail,
                                                   "path": context.path})
            if context.state is not None:
                self.trail.refused(context, exc.code if exc.code in MESSAGES else OTHER)
            return error_page(exc.code, context, exc.status)
        except SATOSANoBoundEndpointError:
            return error_page("page_inconnue", context, 404)
        except (SATOSAMissingStateError, SATOSAStateError) as exc:
            logger.warning("flow state missing", extra={"path": context.path,
                                                        "error": type(exc).__name__})
            return error_page("session_expiree", context, 400)
        except StoreUnavailable as exc:
            logger.error("store unavailable", extra={"path": context.path, "detail": str(exc)})
            metrics.STORE_ERRORS.labels(step).inc()
            if context.path in MACHINE_ENDPOINTS:
                # Relying parties' servers call these, not browsers: they need an OAuth error.
                return Response(json.dumps({"error": "temporarily_unavailable"}),
                                status=STATUS_TEXT[503], content="application/json")
            return error_page("service_indisponible", context, 503)

    def _run_bound_endpoint(self, context: Context, spec) -> Response:
        try:
            return spec(context)
        except SATOSAAuthenticationError as error:
            # The citizen or the source said no (cancel, refusal on the consent screen,
            # prompt=none without a session…): the service gets a protocol error.
            logger.info("login refused", extra={"path": context.path,
                                                "reason": getattr(error, "reason", None)})
            reason = reason_of(error)
            self.trail.refused(context, reason if reason in REASONS else "access_denied")
            resp = self._handle_satosa_authentication_error(error)
            context.state.delete = True  # the login is over: its flow state must not linger
            return resp

    # -- SATOSA's login hooks: what every login leaves (idp.login_trail) ------------

    def _auth_req_callback_func(self, context: Context, internal_request: Any) -> Response:
        self.trail.started(context, getattr(internal_request, "requester", None))
        return super()._auth_req_callback_func(context, internal_request)

    def _auth_req_finish(self, context: Context, internal_request: Any) -> Response:
        self.trail.source_chosen(context)
        return super()._auth_req_finish(context, internal_request)

    def _auth_resp_callback_func(self, context: Context, internal_response: Any) -> Response:
        info = getattr(internal_response, "auth_info", None)
        self.trail.source_answered(context, getattr(info, "auth_class_ref", None))
        return super()._auth_resp_callback_func(context, internal_response)

    def _auth_resp_finish(self, context: Context, internal_response: Any) -> Response:
        resp = super()._auth_resp_finish(context, internal_response)
        info = getattr(internal_response, "auth_info", None)
        self.trail.completed(context, getattr(info, "auth_class_ref", None))
        return resp

    def _load_state(self, context: Context) -> None:
        cookie = SimpleCookie()
        try:
            cookie.load(context.cookie or "")
        except CookieError:  # a malformed Cookie header is the browser's problem, not a 500
            cookie = SimpleCookie()
        morsel = cookie.get(FLOW_COOKIE)
        fid = morsel.value if morsel is not None else ""
        data = self._open_state(fid) if 20 <= len(fid) <= 64 else None
        state = State()
        if data is not None:
            state.data = data
        else:
            fid = secrets.token_urlsafe(32)
        context.state = state
        context.decorate(FLOW_ID_DECORATION, fid)
        context.decorate(WRITES_DECORATION, [])
        context.decorate(FLOW_LOADED_DECORATION, _canonical(data) if data is not None else None)

    def _open_state(self, fid: str) -> dict[str, Any] | None:
        """The flow's state, sealed under its cookie value (:mod:`idp.stores.sealing`): the
        store holds it under the value's hash, and nothing in the store opens it."""
        key = flow_key(fid)
        record = self.store.get(FLOW_NAMESPACE, key)
        if record is None:
            return None
        try:
            data = unseal(fid, FLOW_NAMESPACE, key, record.get("sealed"))
        except Unsealable:
            logger.warning("flow state does not open: a new flow starts")
            return None
        return data if isinstance(data, dict) else None

    def _save_state(self, resp: Response, context: Context) -> None:
        fid = flow_id(context)
        state = context.state
        queued = context.get_decoration(WRITES_DECORATION) or []
        writes = [put for store, put in queued if store is self.store]
        others = [(store, put) for store, put in queued if store is not self.store]
        for store in {id(store): store for store, _ in others}.values():
            # A plugin on another store (none today): its writes together, on their own.
            store.put_many([put for s, put in others if s is store])
        if len(state.data) > 1 and correlation.STATE_KEY not in state.data:
            # A flow worth keeping keeps its login id: the next steps log under it.
            state.data[correlation.STATE_KEY] = correlation.login_id()
        if state.delete:
            self.store.put_many(writes, deletes=[(FLOW_NAMESPACE, flow_key(fid))])
            resp.headers.append(("Set-Cookie", self._cookie("", 0)))
            return
        loaded = context.get_decoration(FLOW_LOADED_DECORATION)
        if len(state.data) <= 1 or (loaded is not None and _canonical(state.data) == loaded):
            # Nothing worth keeping (only SATOSA's session id), or unchanged by this request
            # (a page shown again, a step that only reads it): no write, no new cookie. A
            # flow thus lives ``flow_ttl`` after its last change, and the store record and
            # the cookie keep expiring together.
            self.store.put_many(writes)
            return
        key = flow_key(fid)
        writes.append(Put(FLOW_NAMESPACE, key,
                          {"sealed": seal(fid, FLOW_NAMESPACE, key, dict(state.data))},
                          self.flow_ttl))
        self.store.put_many(writes)  # the flow and what this step stored: one round trip
        resp.headers.append(("Set-Cookie", self._cookie(fid, self.flow_ttl)))

    def _cookie(self, value: str, max_age: int) -> str:
        # SameSite=None: identity sources POST their SAML responses cross-site.
        return (f"{FLOW_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; "
                "SameSite=None")
