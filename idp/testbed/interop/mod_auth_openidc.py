"""mod_auth_openidc 2.4.12 (Debian's ``libapache2-mod-auth-openidc``) as an OIDC relying party.

A private Apache protects ``/protege/``; behind it a CGI prints, as JSON, the
``OIDC_CLAIM_*`` variables the module passes to the application (ID token and userinfo
claims): what a partner's application behind mod_auth_openidc would see. The settings
are the module's defaults, plus what every partner must set (provider, client,
redirect URI, passphrase) and the scope, since its default (``openid``) releases no
attribute. ``pkce=True`` adds ``OIDCPKCEMethod S256`` (the module's default is no PKCE).
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from urllib.parse import quote

from ..servers import free_port
from .apache import PrivateApache
from .application import LOGGED_OUT_PAGE, LOGGED_OUT_PATH, SYSTEM_PYTHON, environment_cgi
from .process import require_file

PROTECTED = "/protege"
#: The OIDC redirect URI: a path inside the protected location, served by the module itself.
REDIRECT_PATH = f"{PROTECTED}/redirect_uri"
CLAIMS_PATH = f"{PROTECTED}/claims.cgi"


class ModAuthOpenidcRP:
    """A private Apache with mod_auth_openidc, registered at ``provider`` as ``client_id``."""

    def __init__(self, logs: Path, provider: str, client_id: str, pkce: bool,
                 scope: str = "openid profile", port: int | None = None) -> None:
        self.client_id = client_id
        self.client_secret = secrets.token_urlsafe(32)
        self.provider = provider
        self.pkce = pkce
        self.scope = scope
        # Debian's interpreter, which www-data can run (not a virtualenv's or pyenv's).
        python = require_file(SYSTEM_PYTHON, "python3")
        files = {f"cgi-bin/{CLAIMS_PATH.rsplit('/', 1)[1]}": environment_cgi(
            python, "mod_auth_openidc", "claims", "OIDC_CLAIM_"),
                 f"htdocs{LOGGED_OUT_PATH}": LOGGED_OUT_PAGE}
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.apache = PrivateApache(logs, ("auth_openidc",), self.site(), files, port=self.port,
                                    log_level="warn auth_openidc:info")

    @property
    def redirect_uri(self) -> str:
        return self.url + REDIRECT_PATH

    @property
    def protected_url(self) -> str:
        """The application page: signing in starts here, and it then shows the claims."""
        return self.url + CLAIMS_PATH

    @property
    def logged_out_url(self) -> str:
        return self.url + LOGGED_OUT_PATH

    def logout_url(self) -> str:
        """RP-initiated logout, as the application links it: the redirect URI with
        ``?logout=`` and where to land afterwards (sent to the provider as
        ``post_logout_redirect_uri``)."""
        return f"{self.redirect_uri}?logout={quote(self.logged_out_url, safe='')}"

    def site(self) -> str:
        pkce = "OIDCPKCEMethod S256\n" if self.pkce else ""
        return f"""
OIDCProviderMetadataURL {self.provider}/.well-known/openid-configuration
OIDCClientID {self.client_id}
OIDCClientSecret {self.client_secret}
OIDCRedirectURI {self.redirect_uri}
OIDCCryptoPassphrase {secrets.token_urlsafe(32)}
OIDCScope "{self.scope}"
{pkce}ScriptAlias {CLAIMS_PATH} "{PrivateApache.ROOT}/cgi-bin/{CLAIMS_PATH.rsplit('/', 1)[1]}"
<Location {PROTECTED}>
    AuthType openid-connect
    Require valid-user
</Location>
"""

    def start(self) -> ModAuthOpenidcRP:
        self.apache.start(LOGGED_OUT_PATH)
        return self

    def stop(self) -> None:
        self.apache.stop()


def claims_of(body: str) -> dict[str, str]:
    """The claims the CGI behind mod_auth_openidc printed."""
    try:
        return dict(json.loads(body)["claims"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionError(f"not the claims page behind mod_auth_openidc: {body[:300]!r}") \
            from exc
