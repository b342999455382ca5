"""Build and run a whole federation in a temporary folder, on free loopback ports.

The proxy is configured exactly as in production: a settings file, partner
files (written here, one per peer), ``ncconnect keys init``'s keys, and
``ncconnect serve`` under gunicorn. Peers are the demo's real pysaml2/pyop apps.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..demo.citizens import CITIZENS
from ..demo.op import make_demo_op
from ..demo.rp import make_demo_rp
from ..demo.saml_idp import DemoIdP, make_demo_idp
from ..demo.saml_sp import make_demo_sp
from ..demo.serve import BackgroundServer
from ..keys import init_keys, rsa_key_pem, write_key_pair
from .records import register_at_rest_key
from .servers import GunicornProxy, free_port

DICTIONARY = Path(__file__).resolve().parents[2] / "attributs" / "dictionnaire.yaml"

#: Everything the demo sources send: the identity pivot complete, and contact details.
SOURCE_ATTRIBUTES = ["given_name", "family_name", "preferred_username", "birthdate", "gender",
                     "birthplace", "birthcountry", "email", "phone_number"]

#: service id -> (protocol, accepted sources, attributes[, extra partner-file fields, its
#: "saml2" entry merged into the SAML part]);
#: the extras' "peer" entry holds options of the test peer (SAML SP: "requested", the friendly
#: names of its RequestedAttributes, "slo", the SingleLogoutService bindings it offers,
#: "name_id_format", the NameIDPolicy Format it asks (None: no NameIDPolicy),
#: "sign_logout_requests": False, unsigned LogoutRequests, "encryption": True, an encryption
#: key in its metadata, with which it decrypts assertions;
#: OIDC RP: "backchannel": False registers no back-channel logout URI, a string registers
#: that URI instead of the RP's own).
DEFAULT_SERVICES: dict[str, tuple] = {
    "rp-op": ("oidc", ["src-op"], ["given_name", "family_name", "birthdate"]),
    "rp-idp": ("oidc", ["src-idp"], ["given_name", "family_name", "birthdate"]),
    "rp-choix": ("oidc", ["src-op", "src-idp"], ["given_name", "family_name"]),
    "sp-op": ("saml2", ["src-op"], ["given_name", "family_name", "birthdate"]),
    "sp-idp": ("saml2", ["src-idp"], ["given_name", "family_name", "birthdate"]),
}


@dataclass
class Federation:
    folder: Path
    proxy_url: str
    config: Path
    env: dict[str, str]
    servers: dict[str, BackgroundServer] = field(default_factory=dict)
    apps: dict[str, object] = field(default_factory=dict)
    proxy: GunicornProxy | None = None
    client_secrets: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, app: object, port: int) -> None:
        server = BackgroundServer(app, port=port)
        server.start()
        self.servers[name], self.apps[name] = server, app

    def _access_lines(self) -> list[str]:
        log = self.folder / "access.log"
        return log.read_text().splitlines() if log.exists() else []

    def access_log_mark(self) -> int:
        """A position in the access log, to look only at the requests made after it."""
        return len(self._access_lines())

    def worker_pids_seen(self, path_prefix: str = "", since: int = 0) -> set[str]:
        """Worker pids that served requests (whose path starts with ``path_prefix``)."""
        pids = set()
        for line in self._access_lines()[since:]:
            parts = line.split('"')
            if len(parts) > 2 and parts[1].split(" ")[-1].startswith(path_prefix):
                pids.add(line.split("pid=")[1].split()[0])
        return pids

    def url(self, peer: str) -> str:
        return self.servers[peer].url

    def second_host(self, store: str, workers: int = 1) -> GunicornProxy:
        """Another ``ncconnect serve`` process, as on a second host: its own data folder holding
        the same keys, the same partner files and base URL, the same store, its own port."""
        host = self.folder / "second-host"
        shutil.copytree(self.folder / "data" / "keys", host / "data" / "keys",
                        dirs_exist_ok=True)
        settings = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        settings.update(partners_dir=str(self.folder / "partenaires"), access_log=None)
        config = host / "proxy.yaml"
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        return GunicornProxy(config, free_port(), workers, store=store, env=self.env,
                             log=host / "proxy.log")

    def start_proxy(self, workers: int = 3, store: str | None = None,
                    pid_file: Path | None = None) -> GunicornProxy:
        self.proxy = GunicornProxy(self.config, self.proxy_port, workers, store=store,
                                   env=self.env, log=self.folder / "proxy.log",
                                   pid_file=pid_file)
        return self.proxy

    def audit_lines(self, folder: Path | None = None) -> list[dict]:
        """Every line of the proxy's audit stream (``DATA_DIR/audit``), oldest first."""
        audit = folder or self.folder / "data" / "audit"
        return [json.loads(line) for file in sorted(audit.glob("audit-*.jsonl"))
                for line in file.read_text(encoding="utf-8").splitlines() if line]

    def log_lines(self) -> list[dict]:
        """The proxy's general log lines (JSON), oldest first."""
        log = self.folder / "proxy.log"
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        return [json.loads(line) for line in text.splitlines() if line.startswith("{")]

    @property
    def proxy_port(self) -> int:
        return int(self.proxy_url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for server in self.servers.values():
            server.stop()


def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def build_federation(folder: Path, services: dict | None = None,
                     log_level: str = "WARNING", peer_crypto: str = "xmlsec1") -> Federation:
    """Start the four kinds of peers and write the proxy's configuration (proxy not started).
    ``log_level="INFO"`` for tests that read the proxy's log (e.g. for personal data).
    ``peer_crypto``: the demo SAML peers' backend, ``xmlsec1`` (independent of the proxy's:
    tests) or ``in_process`` (benchmarks, where the peers' cost is not what is measured)."""
    services = services or DEFAULT_SERVICES
    folder.mkdir(parents=True, exist_ok=True)
    partners = folder / "partenaires"
    partners.mkdir(exist_ok=True)
    peer_keys = folder / "peers"
    peer_keys.mkdir(exist_ok=True)
    proxy_port = free_port()
    proxy = f"http://127.0.0.1:{proxy_port}"
    fed = Federation(folder, proxy, folder / "proxy.yaml", env={})

    # Identity sources first: the proxy reads their metadata at start.
    op_secret = secrets.token_urlsafe(24)
    fed.env["NCC_TEST_OP_SECRET"] = op_secret
    op_port = free_port()
    op_url = f"http://127.0.0.1:{op_port}"
    op = make_demo_op(op_url, {"ncconnect": {
        "client_secret": op_secret, "redirect_uris": [f"{proxy}/src-op/oidc/callback"],
        "post_logout_redirect_uris": [f"{proxy}/src-op/oidc/logout"]}},
        rsa_key_pem()[1], CITIZENS)
    fed.add("src-op", op, op_port)

    write_key_pair(peer_keys / "idp.pem", peer_keys / "idp.crt", "demo idp")
    idp_port = free_port()
    idp = make_demo_idp(f"http://127.0.0.1:{idp_port}", peer_keys / "idp.pem",
                        peer_keys / "idp.crt", [f"{proxy}/src-idp/saml2/metadata"], CITIZENS,
                        crypto=peer_crypto)
    fed.add("src-idp", idp, idp_port)

    provided = {name: {} for name in SOURCE_ATTRIBUTES}
    _write(partners / "src-op.yaml", {
        "kind": "source", "id": "src-op", "display_name": "Identité OIDC de test",
        "loa": "substantial", "protocol": "oidc", "attributes": provided,
        "oidc": {"issuer": op_url, "client_id": "ncconnect",
                 "client_secret_env": "NCC_TEST_OP_SECRET",
                 "scope": ["openid", "profile", "email", "birth", "phone"]}})
    _write(partners / "src-idp.yaml", {
        "kind": "source", "id": "src-idp", "display_name": "Annuaire SAML de test",
        "loa": "low", "protocol": "saml2", "attributes": provided,
        "saml2": {"entity_id": f"{fed.url('src-idp')}/metadata",
                  "metadata_url": f"{fed.url('src-idp')}/metadata"}})

    for sid, (protocol, sources, attributes, *extra) in services.items():
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        fields = dict(extra[0]) if extra else {}
        peer = fields.pop("peer", {})  # options of the test peer, not partner-file fields
        saml2 = fields.pop("saml2", {})  # SAML fields of the partner file, e.g. name_id_formats
        common = {"kind": "service", "id": sid, "name": f"Service de test {sid}",
                  "organisation": "Tests", "contact": "tests@example.nc", "protocol": protocol,
                  "purpose": "Tester la fédération de bout en bout.",
                  "legal_basis": "public_task", "sources": sources,
                  "attributes": {a: {"justification": "Vérifier la transmission."}
                                 for a in attributes},
                  **fields}
        if protocol == "oidc":
            secret = secrets.token_urlsafe(24)
            app = make_demo_rp(base, proxy, sid, secret, f"RP {sid}")
            fed.client_secrets[sid] = secret
            backchannel = peer.get("backchannel", f"{base}/logout/backchannel")
            _write(partners / f"{sid}.yaml", {**common, "oidc": {
                "client_id": sid,
                "client_secret_sha256": hashlib.sha256(secret.encode()).hexdigest(),
                "redirect_uris": [f"{base}/callback"],
                "post_logout_redirect_uris": [f"{base}/"],
                **({"backchannel_logout_uri": backchannel} if backchannel else {})}})
        else:
            write_key_pair(peer_keys / f"{sid}.pem", peer_keys / f"{sid}.crt", sid)
            options = {k: peer[k] for k in ("name_id_format", "sign_logout_requests") if k in peer}
            options["crypto"] = peer_crypto
            if peer.get("encryption"):
                enc = (peer_keys / f"{sid}-chiffrement.pem", peer_keys / f"{sid}-chiffrement.crt")
                write_key_pair(*enc, f"{sid} encryption")
                options["encryption_keys"] = enc
            app = make_demo_sp(base, peer_keys / f"{sid}.pem", peer_keys / f"{sid}.crt",
                               f"{proxy}/saml2/metadata", f"SP {sid}", peer.get("requested"),
                               **({"slo_bindings": tuple(peer["slo"])} if "slo" in peer else {}),
                               **options)
            _write(partners / f"{sid}.yaml", {**common, "saml2": {
                "entity_id": f"{base}/metadata", "metadata_url": f"{base}/metadata", **saml2}})
        fed.add(sid, app, port)

    init_keys(folder / "data" / "keys")
    register_at_rest_key(folder / "data" / "keys" / "at-rest.secret")  # tests open records
    _write(fed.config, {
        "base_url": proxy, "data_dir": "data", "store": "embedded",
        "partners_dir": "partenaires", "dictionary": str(DICTIONARY),
        "allow_loopback_http": True, "bind": f"127.0.0.1:{proxy_port}", "workers": 3,
        "log_level": log_level, "access_log": "access.log"})
    return fed


def add_saml_source(fed: Federation, source_id: str, *, loa: str = "low",
                    partner: dict | None = None, citizens: list | None = None,
                    **idp_options: Any) -> DemoIdP:
    """Another demo SAML identity source, before the proxy starts: a demo IdP (``idp_options``:
    its keyword options — transient NameIDs, encryption, class_ref, PartialLogout, the
    Response signed alone) trusting the proxy's SP metadata for ``source_id``, and its
    partner file (``partner``: extra fields, e.g. ``{"loa_mapping": ...}``;
    ``partner["saml2"]`` is merged into the SAML part, e.g. ``{"name_id": "transient"}``)."""
    keys = fed.folder / "peers"
    write_key_pair(keys / f"{source_id}.pem", keys / f"{source_id}.crt", source_id)
    port = free_port()
    idp = make_demo_idp(f"http://127.0.0.1:{port}", keys / f"{source_id}.pem",
                        keys / f"{source_id}.crt", [f"{fed.proxy_url}/{source_id}/saml2/metadata"],
                        CITIZENS if citizens is None else citizens, **idp_options)
    fed.add(source_id, idp, port)
    extra = dict(partner or {})
    saml2 = {"entity_id": f"{fed.url(source_id)}/metadata",
             "metadata_url": f"{fed.url(source_id)}/metadata", **extra.pop("saml2", {})}
    _write(fed.folder / "partenaires" / f"{source_id}.yaml", {
        "kind": "source", "id": source_id, "display_name": f"Source SAML de test {source_id}",
        "loa": loa, "protocol": "saml2",
        "attributes": {name: {} for name in SOURCE_ATTRIBUTES}, "saml2": saml2, **extra})
    return idp
