"""Where a form of ours may lead: the origins listed in a page's CSP ``form-action``.

Browsers check ``form-action`` against every redirect that follows a form post,
not only against the form's own action. Posting the choice page is answered by a
redirect to the chosen identity source, and when the citizen is still signed in
there, the same navigation comes back through the proxy and on to the service.
So a page that starts such a chain lists exactly those origins, computed once at
start from the registry, never from the request.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from defusedxml import ElementTree

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"


def origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def source_login_origins(backend: dict) -> list[str]:
    """Origins a login at this source starts on: the OIDC issuer's (its authorization
    endpoint normally shares it), or the SAML IdP's SingleSignOnService locations."""
    config = backend["config"]
    urls: list[str] = []
    if "issuer" in config:
        urls.append(config["issuer"])
    elif "idp_metadata_xml" in config:
        root = ElementTree.fromstring(config["idp_metadata_xml"].encode("utf-8"))
        urls += [sso.get("Location", "") for sso in root.iter(f"{MD}SingleSignOnService")]
    return sorted({o for o in map(origin, urls) if o})


def service_origins(redirect_uris: list[str]) -> list[str]:
    """Origins an OIDC service's answers are redirected to (SAML answers are posted from a
    page of ours, which lists its own target)."""
    return sorted({o for o in map(origin, redirect_uris) if o})
