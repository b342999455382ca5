"""OpenID Connect Back-Channel Logout 1.0: which relying parties to tell, and how.

Built from the OIDC frontend's own configuration (``idp.assemble`` passes it to the
single-logout orchestration, :mod:`idp.sso.logout`): the signing key and issuer of our
ID tokens, and per client the ``backchannel_logout_uri`` its partner file registers.
A client without one cannot be told: the citizen is told instead.

The notice is a form POST of ``logout_token`` (§2.5), sent by
:func:`idp.sso.logout_notices.deliver` with the others, in parallel and bounded.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idp.sso.logout_notices import Notice, post

from .id_token import SigningKeys
from .logout_token import logout_token


@dataclass(frozen=True)
class Registered:
    client_id: str
    uri: str | None
    allow_loopback_http: bool


class BackchannelLogout:
    def __init__(self, conf: Mapping[str, Any]) -> None:
        #: The active key of the keyring signs each token (:mod:`.signing_keys`).
        self.keys = SigningKeys.from_path(Path(conf["signing_key_path"]))
        self.issuer = str(conf["issuer"])
        self.clients: dict[str, Registered] = {
            str(entry.get("service_id") or cid): Registered(
                cid, entry.get("backchannel_logout_uri") or None,
                entry.get("allow_loopback_http") is True)
            for cid, entry in (conf.get("clients") or {}).items()}

    def notice(self, service: Mapping[str, Any]) -> Notice | None:
        """The notice for one service of an ended session; ``None`` when it registered no
        back-channel URI (or is no longer registered)."""
        client = self.clients.get(str(service.get("service_id")))
        if client is None or client.uri is None:
            return None
        sub, sid = service.get("subject"), service.get("sid")
        token = logout_token(self.keys.active(), issuer=self.issuer, client_id=client.client_id,
                             sub=sub if isinstance(sub, str) else None,
                             sid=sid if isinstance(sid, str) else None)
        uri = client.uri

        def send() -> None:
            post(uri, allow_loopback_http=client.allow_loopback_http,
                 data={"logout_token": token},
                 headers={"Content-Type": "application/x-www-form-urlencoded"})

        return Notice(str(service["service_id"]), send)
