"""After a client secret is regenerated with an overlap, the token endpoint accepts the new
secret, and the previous one until its ``expires_at`` (compared with the clock at each
request, no reload needed), then refuses it like any wrong secret.

The provider is the real application of ``conftest``, with relying parties whose entries
carry a previous secret the way ``idp/assemble.py`` writes it from ``previous_client_secret``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator

import pytest

from plugins.frontends.oidc.clients import ClientRegistry

from .conftest import RP, Login, Provider, serve_provider, sha256_hex

OLD = "ancien-secret-" + "o" * 24
NEW = "nouveau-secret-" + "n" * 24
#: In its overlap: the partner has not switched yet.
SWITCHING = "rp-secret-en-transition"
SWITCHING_POST = "rp-secret-post-en-transition"
#: The overlap is over: the previous secret must be refused.
OVERLAP_OVER = "rp-secret-transition-finie"


def rotated_rps() -> dict[str, RP]:
    return {rp.client_id: rp for rp in (
        RP(SWITCHING, NEW, "client_secret_basic", ["https://transition.example.nc/cb"],
           ["email"]),
        RP(SWITCHING_POST, NEW, "client_secret_post", ["https://transition-post.example.nc/cb"],
           ["email"]),
        RP(OVERLAP_OVER, NEW, "client_secret_basic", ["https://transition-finie.example.nc/cb"],
           ["email"]),
    )}


@pytest.fixture(scope="module")
def rotated(tmp_path_factory, keys) -> Iterator[Provider]:
    """A provider whose clients have a new secret and the previous one (``OLD``), still in
    its overlap for two of them, over (an ``expires_at`` in the past) for the third."""
    def previous_secrets(config: dict) -> None:
        clients = config["FRONTEND_MODULES"][0]["config"]["clients"]
        for cid, expires_at in ((SWITCHING, time.time() + 3600),
                                (SWITCHING_POST, time.time() + 3600),
                                (OVERLAP_OVER, time.time() - 1)):
            clients[cid].update(previous_client_secret_sha256=sha256_hex(OLD),
                                previous_client_secret_expires_at=expires_at)

    yield from serve_provider(tmp_path_factory.mktemp("rotated-op"), keys,
                              {"code": 60, "access_token": 300, "id_token": 300},
                              rps=rotated_rps(), adjust=previous_secrets)


def presenting(login: Login, secret: str) -> Login:
    """The same login, redeemed by a relying party presenting ``secret``."""
    return dataclasses.replace(login, rp=dataclasses.replace(login.rp, secret=secret))


def assert_invalid_client(resp) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"] == "invalid_client"


def test_new_secret_is_accepted(rotated):
    resp = rotated.token(rotated.login(SWITCHING))
    assert resp.status_code == 200, resp.text
    assert resp.json()["id_token"]


def test_previous_secret_is_accepted_before_its_expiry(rotated):
    resp = rotated.token(presenting(rotated.login(SWITCHING), OLD))
    assert resp.status_code == 200, resp.text
    assert resp.json()["id_token"]


def test_previous_secret_is_accepted_with_client_secret_post_too(rotated):
    resp = rotated.token(presenting(rotated.login(SWITCHING_POST), OLD))
    assert resp.status_code == 200, resp.text


def test_previous_secret_is_refused_after_its_expiry_and_the_code_kept(rotated):
    login = rotated.login(OVERLAP_OVER)
    assert_invalid_client(rotated.token(presenting(login, OLD)))
    assert rotated.token(login).status_code == 200


def test_new_secret_is_accepted_after_the_overlap(rotated):
    assert rotated.token(rotated.login(OVERLAP_OVER)).status_code == 200


def test_unknown_secret_is_refused_during_the_overlap(rotated):
    login = rotated.login(SWITCHING)
    assert_invalid_client(rotated.token(presenting(login, "ni-l-ancien-ni-le-nouveau")))
    assert rotated.token(login).status_code == 200


def test_use_of_the_previous_secret_is_logged_with_the_client_id_and_no_secret(rotated,
                                                                              caplog):
    with caplog.at_level(logging.INFO, logger="ncconnect.oidc"):
        assert rotated.token(presenting(rotated.login(SWITCHING), OLD)).status_code == 200
    [record] = [r for r in caplog.records if "previous secret" in r.getMessage()]
    assert record.levelno == logging.WARNING
    assert record.client == SWITCHING
    logged = json.dumps({k: str(v) for k, v in vars(record).items()})
    assert OLD not in logged and sha256_hex(OLD) not in logged


def test_use_of_the_new_secret_is_not_logged_as_the_previous_one(rotated, caplog):
    with caplog.at_level(logging.INFO, logger="ncconnect.oidc"):
        assert rotated.token(rotated.login(SWITCHING)).status_code == 200
    assert not [r for r in caplog.records if "previous secret" in r.getMessage()]


def test_the_expiry_is_compared_with_the_clock_at_each_authentication():
    client = ClientRegistry({"rp-x": {
        "redirect_uris": ["https://x.example.nc/cb"], "client_secret_sha256": sha256_hex(NEW),
        "previous_client_secret_sha256": sha256_hex(OLD),
        "previous_client_secret_expires_at": 1000.0}}).get("rp-x")
    assert client.matching_secret(OLD, now=999.0) == "previous"
    assert client.matching_secret(OLD, now=1000.0) is None
    assert client.matching_secret(NEW, now=1000.0) == "current"


@pytest.mark.parametrize("entry,message", [
    ({"token_endpoint_auth_method": "none"}, "only for a secret-based client"),
    ({"client_secret_sha256": "a" * 64, "previous_client_secret_sha256": None},
     "without previous_client_secret_sha256"),
    ({"client_secret_sha256": "a" * 64, "previous_client_secret_expires_at": None},
     "must be seconds since the epoch"),
    ({"client_secret_sha256": "a" * 64, "previous_client_secret_expires_at": "2026-12-11"},
     "must be seconds since the epoch"),
])
def test_entry_with_an_unusable_previous_secret_is_refused_at_start_up(entry, message):
    base = {"redirect_uris": ["https://x.example.nc/cb"],
            "previous_client_secret_sha256": "b" * 64,
            "previous_client_secret_expires_at": 1.0}
    with pytest.raises(ValueError, match=message):
        ClientRegistry({"rp-x": {**base, **entry}})
