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

**Hint.** A service that knows which account its citizen uses may name it (OIDC
``idp_hint``, SAML ``<Scoping><IDPList>``, read by the frontends into
:mod:`idp.source_hint`): when the hint names exactly one source of the service that reaches
the level this request requires — by partner id, or by ``entity_id`` for a SAML source — the
page is skipped for it; any other hint is ignored and the page shows as usual.

**Cancel at the source.** The request stays in the flow state (``STATE_KEY``) while the
citizen is at the source, marked with that source (``at``). A source that answers "the
citizen cancelled" (OIDC ``access_denied``, SAML ``RequestDenied`` / ``AuthnFailed``, the
account form's "Annuler") calls :func:`back_to_choice`: the same request is offered again on
the choice page — every source the service accepts at this level, even when there is only
one — with a short message naming the source cancelled. The page's "Revenir au service" ends
the login with ``access_denied`` to the service, which therefore hears of the cancel only if
the citizen gives up. Each offering of the page has its own form token (``tour``): a form
from before the cancel cannot be replayed, and a posted choice is taken once.
"""

from __future__ import annotations

import logging
from http.cookies import CookieError, SimpleCookie
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import RequestMicroService
from satosa.response import Response, SeeOther

from idp import loa, source_hint
from idp.app import flow_id
from idp.authn_requirements import requirements_of
from idp.autopost import FORM_ACTION_HEADER
from idp.csrf import csrf_ok, csrf_secrets, csrf_token
from idp.errors import FlowError
from idp.pages import lang_of, render
from idp.refusals import ACCESS_DENIED, level_unreachable, refusal
from idp.same_origin import posted_from
from plugins.micro_services.consent_view import localised

logger = logging.getLogger("ncconnect.choix")

REMEMBER_COOKIE = "ncc_choix"
FORM = "choix"
#: Flow-state key of the request the choice is for (the LDAP source restores it too).
STATE_KEY = "choix"
#: The page's "Revenir au service" button: ``name=RETOUR``.
RETOUR = "retour"


class IdentitySourceChoice(RequestMicroService):
    def __init__(self, config: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.services: dict[str, dict] = config["services"]
        self.sources: dict[str, dict] = config["sources"]
        self.remember_ttl: int = config["remember_ttl"]
        self.secure: bool = config.get("secure_cookie", True)
        # ``__Host-`` whenever the cookie is Secure (Path=/, no Domain: it qualifies).
        self.remember_cookie = "__Host-" + REMEMBER_COOKIE if self.secure else REMEMBER_COOKIE
        self.csrf_secret = csrf_secrets(config["csrf_secret_path"])  # rotates (idp.keyring)

    def register_endpoints(self) -> list:
        return [("^choix$", self.choice_endpoint)]

    # -- request path ---------------------------------------------------------

    def process(self, context: Context, data: InternalData) -> Response:
        service = self.services.get(data.requester)
        if service is None:
            # The frontends only pass registered services; refusing here keeps it closed anyway.
            raise FlowError("client_inconnu", detail="requester not in the choice table")
        hints = source_hint.take(context)
        if context.target_backend:
            # Answered without a source (SSO session): no earlier request may linger.
            context.state.pop(STATE_KEY, None)
            return super().process(context, data)
        if not service["sources"]:
            raise FlowError("source_non_autorisee", detail=f"service {service['service_id']} has "
                            "no active source")
        allowed = self._at_level(context, service)
        record = {"request": data.to_dict(), "frontend": context.target_frontend, "tour": 0}
        direct = allowed[0] if len(allowed) == 1 else self._hinted(hints, service, allowed)
        if direct is not None:
            # Kept while the citizen is at the source, for a cancel there (back_to_choice).
            context.state[STATE_KEY] = {**record, "at": direct}
            context.target_backend = direct
            return super().process(context, data)
        context.state[STATE_KEY] = record
        return SeeOther(f"{self.base_url}/choix")

    def choice_endpoint(self, context: Context) -> Response:
        pending = context.state.get(STATE_KEY) if context.state else None
        if not isinstance(pending, dict) or pending.get("at") or "request" not in pending:
            # None pending, or already answered: the citizen is at (or back from) a source.
            raise FlowError("session_expiree", detail="choice without a pending request")
        data = InternalData.from_dict(pending["request"])
        service = self.services.get(data.requester)
        if service is None:
            raise FlowError("client_inconnu", detail="requester disappeared from the registry")
        if context.request_method != "POST":
            return self._page(context, service, pending)
        if not posted_from(context, self.base_url):
            raise FlowError("csrf", status=403, detail="choice form posted from another origin")
        if not csrf_ok(self.csrf_secret, flow_id(context), _form(pending),
                       context.request.get("csrf")):
            raise FlowError("csrf", status=403, detail="choice form token invalid")
        context.target_frontend = pending["frontend"]
        if context.request.get(RETOUR):
            # "Revenir au service": the citizen gives up; the service hears access_denied.
            logger.info("citizen went back to the service",
                        extra={"service": service["service_id"],
                               "after_cancel": bool(pending.get("annule"))})
            del context.state[STATE_KEY]
            raise refusal(context, ACCESS_DENIED)
        chosen = context.request.get("source", "")
        if chosen not in self._at_level(context, service):
            raise FlowError("source_non_autorisee", status=403,
                            detail=f"source not allowed for {service['service_id']}")
        logger.info("source chosen", extra={"service": service["service_id"], "source": chosen})
        # Taken once: until a cancel at the source offers the page again, no post is accepted.
        context.state[STATE_KEY] = {"request": pending["request"],
                                    "frontend": pending["frontend"],
                                    "tour": _tour(pending), "at": chosen}
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

    def _hinted(self, hints: tuple[str, ...], service: dict, allowed: list[str]) -> str | None:
        """The one source of ``allowed`` the service's hint names (partner id, or a SAML
        source's entity id); ``None`` when the hint names none of them, or several."""
        if not hints:
            return None
        named = [s for s in allowed
                 if s in hints or self.sources[s].get("entity_id") in hints]
        if len(named) != 1:
            logger.info("source hint ignored", extra={"service": service["service_id"],
                                                      "matches": len(named)})
            return None
        logger.info("source hint followed", extra={"service": service["service_id"],
                                                   "source": named[0]})
        return named[0]

    def _page(self, context: Context, service: dict, pending: dict) -> Response:
        # Names in the page's language where the partner file gives one (else French, marked).
        lang = lang_of(context)
        sources = [{"id": s, **self.sources[s],
                    "display_name": localised(self.sources[s].get("display_name") or s, lang),
                    "description": localised(self.sources[s].get("description") or "", lang)}
                   for s in self._at_level(context, service)]
        cancelled = pending.get("annule")
        remembered = self._remembered(context)
        if remembered == cancelled:
            remembered = None  # just cancelled there: not offered first, nor focused
        # The remembered source comes first: one keypress to reuse it.
        sources.sort(key=lambda s: s["id"] != remembered)
        page = render(
            "choix.html", context,
            service_name=localised(service["name"], lang), sources=sources,
            remembered=remembered,
            csrf=csrf_token(self.csrf_secret, flow_id(context), _form(pending)),
            action=f"{self.base_url}/choix",
            cancelled=localised((self.sources.get(cancelled) or {}).get("display_name")
                                or cancelled, lang)
            if isinstance(cancelled, str) else None,
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


def _tour(pending: dict) -> int:
    tour = pending.get("tour")
    return tour if isinstance(tour, int) and not isinstance(tour, bool) and tour >= 0 else 0


def _form(pending: dict) -> str:
    """The CSRF form name of this offering of the page (one per cancel at a source)."""
    tour = _tour(pending)
    return FORM if tour == 0 else f"{FORM}:{tour}"


def back_to_choice(context: Context, source: str, base_url: str,
                   cancelled: bool = True) -> Response:
    """The citizen left ``source`` without an identity: offer the choice again.

    Called by a backend when its source answers that the citizen cancelled (``cancelled``),
    or when the account source's identity does not reach the level (``cancelled=False``: no
    message). Only the flow the choice sent to ``source`` is reopened; without it (a request
    that did not come through the choice, a passive one, a replay) the login ends with
    ``access_denied`` as before."""
    pending = context.state.get(STATE_KEY) if context.state is not None else None
    if (not isinstance(pending, dict) or pending.get("at") != source
            or "request" not in pending or requirements_of(context).passive):
        if context.target_frontend is None and isinstance(pending, dict):
            context.target_frontend = pending.get("frontend")
        raise refusal(context, ACCESS_DENIED)
    reopened = {"request": pending["request"], "frontend": pending["frontend"],
                "tour": _tour(pending) + 1}
    if cancelled:
        reopened["annule"] = source
    context.state[STATE_KEY] = reopened
    logger.info("back to the choice", extra={"source": source, "cancelled": cancelled})
    return SeeOther(f"{base_url}/choix")
