"""WSGI entry point of the benchmark's vanilla SATOSA (runs in the vanilla venv).

``satosa.wsgi:app`` unchanged but for one configuration check: oic refuses an OpenID
provider whose issuer is not https (``SchemeError: Not HTTPS``), both for SATOSA's own
OIDC frontend and for the demo source its OIDC backend discovers. The benchmark runs
everything over http on 127.0.0.1 (as this project does with ``allow_loopback_http``), so
an ``http://127.0.0.1`` issuer is checked as its https twin.

And pysaml2's entities take ``signing_algorithm`` / ``digest_algorithm`` from the
configuration's top level, as pysaml2 documents them: pysaml2 reads them per context
(``sp``/``idp``) where its loader never puts them, so SATOSA's SAML backend signed its
Redirect-binding AuthnRequests with RSA-SHA1, which the demo SAML source (like this
proxy) refuses. Nothing else changes.
"""

from urllib.parse import urlsplit

from oic.oic.message import ProviderConfigurationResponse
from saml2.entity import Entity

_verify = ProviderConfigurationResponse.verify


def _verify_loopback(self, **kwargs):
    issuer = self.get("issuer", "")
    if isinstance(issuer, str) and urlsplit(issuer).scheme == "http" and urlsplit(
            issuer).hostname == "127.0.0.1":
        self["issuer"] = "https" + issuer[len("http"):]
        try:
            return _verify(self, **kwargs)
        finally:
            self["issuer"] = issuer
    return _verify(self, **kwargs)


ProviderConfigurationResponse.verify = _verify_loopback

_entity_init = Entity.__init__


def _entity_init_with_algorithms(self, *args, **kwargs):
    _entity_init(self, *args, **kwargs)
    for name in ("signing_algorithm", "digest_algorithm"):
        configured = getattr(self.config, name, None)
        if configured:
            setattr(self, name, configured)


Entity.__init__ = _entity_init_with_algorithms

from satosa.wsgi import app  # noqa: E402 - after the check is relaxed

__all__ = ["app"]
