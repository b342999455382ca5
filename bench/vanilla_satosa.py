"""Vanilla SATOSA for ``bench/compare.py``: its own virtual environment and configuration.

The venv (cached under ``~/.cache/ncconnect-bench/``, or ``$NCC_BENCH_CACHE``) holds the
same versions of SATOSA, pysaml2, pyop, oic, gunicorn and redis as this project's venv,
installed with pip from the package registry. The configuration follows SATOSA's own
documentation (``proxy_conf.yaml``, one YAML file per module): SAMLFrontend (IdP),
OpenIDConnectFrontend, SAMLBackend, OpenIDConnectBackend, its own keys, an
``internal_attributes.yaml`` mapping the attributes the demo citizens carry, and pysaml2
with its default ``xmlsec1`` crypto backend.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests
import yaml

from idp.demo.attributes import ATTRIBUTES
from idp.keys import rsa_key_pem, write_key_pair
from idp.testbed.servers import wait_for

#: Distributions installed into the vanilla venv, at the versions this project's venv has.
PINNED = ["SATOSA", "pysaml2", "pyop", "oic", "gunicorn", "redis"]

SAML_FRONTEND = "Saml2IDP"
OIDC_FRONTEND = "OIDC"
SAML_BACKEND = "Saml2SP"
OIDC_BACKEND = "OIDCBackend"
#: source id of the testbed -> vanilla backend module serving it
BACKEND_OF_SOURCE = {"src-op": OIDC_BACKEND, "src-idp": SAML_BACKEND}

BINDING_REDIRECT = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
BINDING_POST = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"
NAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"
NAMEID_PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def cache_dir() -> Path:
    return Path(os.environ.get("NCC_BENCH_CACHE", Path.home() / ".cache" / "ncconnect-bench"))


def pins() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in PINNED]


def ensure_venv(log=print) -> Path:
    """The vanilla venv, created once (a marker file records what was installed)."""
    wanted = pins()
    venv = cache_dir() / ("vanilla-satosa-" + importlib.metadata.version("SATOSA"))
    marker = venv / "ncc-bench-installed.json"
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return venv
    log(f"vanilla: creating {venv} with {' '.join(wanted)} (once)")
    venv.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check",
                    *wanted], check=True, timeout=900)
    marker.write_text(json.dumps(wanted))
    log(f"vanilla: venv ready in {time.monotonic() - started:.0f}s")
    return venv


def _attribute_map() -> str:
    """pysaml2 attribute map module (``attribute_map_dir``): friendly names <-> urn:oid."""
    to = {friendly: urn for urn, friendly, _ in ATTRIBUTES.values()}
    fro = {urn: friendly for friendly, urn in to.items()}
    return (f"MAP = {{'identifier': {NAME_FORMAT_URI!r},\n"
            f"       'fro': {fro!r},\n       'to': {to!r}}}\n")


def _dump(path: Path, data: dict) -> str:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


class VanillaSatosa:
    """Writes the configuration, registers clients, runs ``gunicorn satosa.wsgi:app``."""

    def __init__(self, venv: Path, folder: Path, port: int) -> None:
        self.venv = venv
        self.folder = folder
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.frontend_entity = f"{self.base}/{SAML_FRONTEND}/proxy.xml"
        self.backend_entity = f"{self.base}/{SAML_BACKEND}/proxy_saml2_backend.xml"
        self.oidc_callback = f"{self.base}/{OIDC_BACKEND}/callback"
        self.op_client_id = "vanilla-satosa"
        self.op_client_secret = secrets.token_urlsafe(24)
        self.clients: dict[str, dict] = {}  # OIDC frontend clients (client_db_path)
        self.sp_metadata_files: list[str] = []
        self.routing: dict[str, str] = {}  # requester -> backend
        folder.mkdir(parents=True, exist_ok=True)

    # -- what the driver registers before start() --------------------------------

    def add_oidc_service(self, client_id: str, secret: str, redirect_uri: str,
                         backend: str) -> None:
        self.clients[client_id] = {
            "client_secret": secret, "redirect_uris": [redirect_uri],
            "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic"}
        self.routing[client_id] = backend

    def add_saml_service(self, entity_id: str, metadata_xml: str, backend: str) -> None:
        path = self.folder / f"sp-{len(self.sp_metadata_files)}.xml"
        path.write_text(metadata_xml, encoding="utf-8")
        self.sp_metadata_files.append(str(path))
        self.routing[entity_id] = backend

    # -- configuration ------------------------------------------------------------

    def write_config(self, op_issuer: str, idp_metadata_xml: str, redis_url: str,
                     workers: int) -> Path:
        """With several workers, ``allow_unsolicited``: SATOSA's SAMLBackend keeps its
        outstanding AuthnRequest ids in a per-process dict, so a Response reaching another
        worker fails ("Unsolicited response"); it still checks the RelayState against the
        flow's state cookie. With one worker, InResponseTo is checked."""
        f = self.folder
        f.mkdir(parents=True, exist_ok=True)
        (f / "attributemaps").mkdir(exist_ok=True)
        (f / "attributemaps" / "__init__.py").write_text("")
        (f / "attributemaps" / "uri.py").write_text(_attribute_map())
        (f / "oidc-frontend.key").write_bytes(rsa_key_pem()[1])
        write_key_pair(f / "idp.key", f / "idp.crt", "vanilla satosa idp")
        write_key_pair(f / "sp.key", f / "sp.crt", "vanilla satosa sp")
        (f / "idp-source.xml").write_text(idp_metadata_xml, encoding="utf-8")
        (f / "clients.json").write_text(json.dumps(self.clients))
        amap = str(f / "attributemaps")

        internal = {"attributes": {
            claim: {"openid": [claim], "saml": [friendly]}
            for claim, (_urn, friendly, _label) in ATTRIBUTES.items()}}
        saml_frontend = {
            "module": "satosa.frontends.saml2.SAMLFrontend", "name": SAML_FRONTEND,
            "config": {
                "entityid_endpoint": True,
                "endpoints": {"single_sign_on_service": {BINDING_REDIRECT: "sso/redirect"}},
                "idp_config": {
                    "entityid": self.frontend_entity,
                    "key_file": str(f / "idp.key"), "cert_file": str(f / "idp.crt"),
                    "attribute_map_dir": amap,
                    "metadata": {"local": self.sp_metadata_files},
                    "signing_algorithm": RSA_SHA256, "digest_algorithm": SHA256,
                    "service": {"idp": {
                        "name": "Vanilla SATOSA IdP",
                        "endpoints": {"single_sign_on_service": []},
                        "name_id_format": [NAMEID_PERSISTENT],
                        # SATOSA 8.6.0's SAMLFrontend calls parse_authn_request without the
                        # Redirect binding's SigAlg/Signature: with True every signed
                        # Redirect AuthnRequest fails ("Request was not signed correctly").
                        "want_authn_requests_signed": False,
                        "policy": {"default": {
                            "attribute_restrictions": None,
                            "fail_on_missing_requested": False,
                            "lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI,
                            "sign_response": True, "sign_assertion": True}}}}}}}
        oidc_frontend = {
            "module": "satosa.frontends.openid_connect.OpenIDConnectFrontend",
            "name": OIDC_FRONTEND,
            "config": {
                "signing_key_path": str(f / "oidc-frontend.key"),
                "db_uri": redis_url,  # codes, tokens, userinfo shared by the workers
                "client_db_path": str(f / "clients.json"),
                "sub_hash_salt": secrets.token_hex(16),  # one for every worker
                "provider": {"response_types_supported": ["code"],
                             "subject_types_supported": ["pairwise"],
                             "scopes_supported": ["openid", "profile", "email"],
                             "id_token_lifetime": 600}}}
        saml_backend = {
            "module": "satosa.backends.saml2.SAMLBackend", "name": SAML_BACKEND,
            "config": {
                "entityid_endpoint": True,
                "sp_config": {
                    "entityid": self.backend_entity,
                    "key_file": str(f / "sp.key"), "cert_file": str(f / "sp.crt"),
                    "attribute_map_dir": amap,
                    "metadata": {"local": [str(f / "idp-source.xml")]},
                    "signing_algorithm": RSA_SHA256, "digest_algorithm": SHA256,
                    "service": {"sp": {
                        "name": "Vanilla SATOSA SP",
                        "authn_requests_signed": True, "want_response_signed": True,
                        "want_assertions_signed": True,
                        "allow_unsolicited": workers > 1,
                        "name_id_format": NAMEID_PERSISTENT,
                        "endpoints": {"assertion_consumer_service": [
                            [f"{self.base}/{SAML_BACKEND}/acs/post", BINDING_POST]]}}}}}}
        oidc_backend = {
            "module": "satosa.backends.openid_connect.OpenIDConnectBackend",
            "name": OIDC_BACKEND,
            "config": {
                "provider_metadata": {"issuer": op_issuer},
                "client": {
                    "verify_ssl": False,
                    "auth_req_params": {"response_type": "code",
                                        "scope": ["openid", "profile", "email"]},
                    "client_metadata": {
                        "client_id": self.op_client_id, "client_secret": self.op_client_secret,
                        "application_name": "vanilla satosa", "application_type": "web",
                        "contacts": ["bench@example.nc"], "redirect_uris": [self.oidc_callback],
                        "subject_type": "public",
                        "token_endpoint_auth_method": "client_secret_basic"}}}}
        # SATOSA's stock routing micro-service: with two backends, its OIDC frontend has no
        # other way to pick one (it logs so); each service is bound to one source, as ours.
        routing = {"module": "satosa.micro_services.custom_routing.DecideBackendByRequester",
                   "name": "RequesterRouting",
                   "config": {"requester_mapping": self.routing}}
        proxy_conf = {
            "BASE": self.base,
            "COOKIE_STATE_NAME": "SATOSA_STATE",
            "STATE_ENCRYPTION_KEY": secrets.token_urlsafe(24),
            "CUSTOM_PLUGIN_MODULE_PATHS": [],
            "INTERNAL_ATTRIBUTES": _dump(f / "internal_attributes.yaml", internal),
            "BACKEND_MODULES": [_dump(f / "saml2_backend.yaml", saml_backend),
                                _dump(f / "openid_backend.yaml", oidc_backend)],
            "FRONTEND_MODULES": [_dump(f / "saml2_frontend.yaml", saml_frontend),
                                 _dump(f / "openid_frontend.yaml", oidc_frontend)],
            "MICRO_SERVICES": [_dump(f / "routing.yaml", routing)],
            "LOGGING": {"version": 1, "disable_existing_loggers": False,
                        "formatters": {"simple": {
                            "format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
                        "handlers": {"stderr": {"class": "logging.StreamHandler",
                                                "stream": "ext://sys.stderr",
                                                "formatter": "simple"}},
                        "root": {"level": os.environ.get("NCC_BENCH_VANILLA_LOG", "WARNING"),
                                 "handlers": ["stderr"]}},
        }
        return Path(_dump(f / "proxy_conf.yaml", proxy_conf))

    # -- process ------------------------------------------------------------------

    def start(self, workers: int) -> None:
        shutil.copy(Path(__file__).with_name("vanilla_wsgi.py"), self.folder / "vanilla_wsgi.py")
        env = {**os.environ, "SATOSA_CONFIG": str(self.folder / "proxy_conf.yaml")}
        env.pop("PYTHONPATH", None)
        self.log = open(self.folder / "satosa.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "gunicorn"), "--workers", str(workers),
             "--worker-class", "sync", "--bind", f"127.0.0.1:{self.port}", "--timeout", "30",
             "--graceful-timeout", "5", "--chdir", str(self.folder), "--no-control-socket",
             "vanilla_wsgi:app"],
            env=env, stdout=self.log, stderr=self.log, start_new_session=True)
        try:
            wait_for(f"{self.base}/.well-known/openid-configuration", timeout=60,
                     proc=self.proc)
        except (RuntimeError, TimeoutError) as exc:
            tail = (self.folder / "satosa.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"vanilla SATOSA did not start: {exc}\n{tail}") from None
        requests.get(self.frontend_entity, timeout=10).raise_for_status()

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True,
                             text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        if self.proc is not None:
            self.log.close()
