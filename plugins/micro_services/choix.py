"""Identity-source choice: "Je choisis un compte pour me connecter".

A request micro-service: it runs after the frontend has validated the service's
request and before any backend. The service's partner file lists the sources it
accepts; one source skips the page, several show it. The chosen source becomes
SATOSA's ``target_backend``. The last choice is remembered in a cookie that
holds only a source id.

Only sources reaching the level this request requires are offered
(:mod:`idp.authn_requirements`): a service that asked for ``substantial`` never
sees a ``low`` source, and cannot be sent to one by a forged form. When none
reaches it, a level the *request* asked for ends with a protocol error to the
service (it may ask for less, or tell its usager); a level the service's own
partner file requires — which the registry guarantees its sources reach, so only
a source deactivated since can cause it — ends on a French page.

When an earlier request micro-service already chose the backend (the SSO session
answers), there is nothing to choose and the request passes through.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from pathlib import Path
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import RequestMicroService
from satosa.response import Response, SeeOther

from idp import loa
from idp.app import flow_id
from idp.authn_requirements import requirements_of
from idp.autopost import FORM_ACTION_HEADER
from idp.csrf import csrf_ok, csrf_token
from idp.errors import FlowError
from idp.keys import read_secret
from idp.pages import render
from idp.refusals import level_unreachable

logger = logging.getLogger("ncconnect.choix")

REMEMBER_COOKIE = "ncc_choix"
FORM = "choix"


class IdentitySourceChoice(RequestMicroService):
    def __init__(self, config: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services: dict[str, dict] = config["services"]
        self.sources: dict[str, dict] = config["sources"]
        self.remember_ttl: int = config["remember_ttl"]
        self.secure: bool = config.get("secure_cookie", True)
        # ``__Host-`` whenever the cookie is Secure (Path=/, no Domain: it qualifies).
        self.remember_cookie = "__Host-" + REMEMBER_COOKIE if self.secure else REMEMBER_COOKIE
        self.csrf_secret = read_secret(Path(config["csrf_secret_path"]))

    def register_endpoints(self) -> list:
        return [("^choix$", self.choice_endpoint)]

    # -- request path ---------------------------------------------------------

    def process(self, context: Context, data: InternalData) -> Response:
        service = self.services.get(data.requester)
        if service is None:
            # The frontends only pass registered services; refusing here keeps it closed anyway.
            raise FlowError("client_inconnu", detail="requester not in the choice table")
        if context.target_backend:
            return super().process(context, data)
        if not service["sources"]:
            raise FlowError("source_non_autorisee", detail=f"service {service['service_id']} has "
                            "no active source")
        allowed = self._at_level(context, service)
        if len(allowed) == 1:
            context.target_backend = allowed[0]
            return super().process(context, data)
        context.state[self.name] = {
            "request": data.to_dict(),
            "frontend": context.target_frontend,
        }
        return SeeOther(f"{self.base_url}/choix")

    def choice_endpoint(self, context: Context) -> Response:
        pending = context.state.get(self.name) if context.state else None
        if not pending:
            raise FlowError("session_expiree", detail="choice without a pending request")
        data = InternalData.from_dict(pending["request"])
        service = self.services.get(data.requester)
        if service is None:
            raise FlowError("client_inconnu", detail="requester disappeared from the registry")
        if context.request_method != "POST":
            return self._page(context, service)
        if not csrf_ok(self.csrf_secret, flow_id(context), FORM, context.request.get("csrf")):
            raise FlowError("csrf", status=403, detail="choice form token invalid")
        chosen = context.request.get("source", "")
        context.target_frontend = pending["frontend"]
        if chosen not in self._at_level(context, service):
            raise FlowError("source_non_autorisee", status=403,
                            detail=f"source not allowed for {service['service_id']}")
        logger.info("source chosen", extra={"service": service["service_id"], "source": chosen})
        del context.state[self.name]
        context.target_backend = chosen
        resp = self.next(context, data)
        resp.headers.append(("Set-Cookie", self._remember_cookie(chosen)))
        return resp

    # -- helpers ---------------------------------------------------------------

    def _at_level(self, context: Context, service: dict) -> list[str]:
        """The service's sources that reach the level this request requires (or a refusal)."""
        req = requirements_of(context)
        allowed = [s for s in service["sources"] if s in self.sources
                   and loa.reaches(self.sources[s].get("loa", loa.LOW), req.loa_min)]
        if allowed:
            return allowed
        logger.info("no source reaches the level", extra={"service": service["service_id"],
                                                          "loa_min": req.loa_min})
        if req.raised_by_request:
            raise level_unreachable(context)
        raise FlowError("niveau_indisponible", 403,
                        f"no active source of {service['service_id']} reaches {req.loa_min}")

    def _page(self, context: Context, service: dict) -> Response:
        sources = [{"id": s, **self.sources[s]} for s in self._at_level(context, service)]
        remembered = self._remembered(context)
        # The remembered source comes first: one keypress to reuse it.
        sources.sort(key=lambda s: s["id"] != remembered)
        page = render(
            "choix.html", context,
            service_name=service["name"], sources=sources, remembered=remembered,
            csrf=csrf_token(self.csrf_secret, flow_id(context), FORM),
            action=f"{self.base_url}/choix",
        )
        # The post is answered by a redirect to the source, which may send the browser straight
        # back through us to the service: the CSP's form-action must allow that whole chain
        # (see idp/form_targets.py).
        targets = sorted({o for s in sources for o in s.get("origins", ())}
                         | set(service.get("origins", ())))
        if targets:
            page.headers.append((FORM_ACTION_HEADER, " ".join(targets)))
        return page

    def _remembered(self, context: Context) -> str | None:
        cookie = SimpleCookie()
        try:
            cookie.load(context.cookie or "")
        except CookieError:
            return None
        morsel = cookie.get(self.remember_cookie)
        return morsel.value if morsel is not None and morsel.value in self.sources else None

    def _remember_cookie(self, source: str) -> str:
        secure = "; Secure" if self.secure else ""
        return (f"{self.remember_cookie}={source}; Path=/; Max-Age={self.remember_ttl}; HttpOnly"
                f"{secure}; SameSite=Lax")
