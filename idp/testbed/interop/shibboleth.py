"""Shibboleth SP 3 (Debian's ``libapache2-mod-shib`` and its ``shibd``) as a SAML SP.

Shibboleth is two programs: ``mod_shib`` inside Apache, which only asks, and the daemon
``shibd``, which holds the keys, the metadata and the sessions and does all the SAML; they
talk over a socket. Debian's ones (``/etc/shibboleth``, ``/run/shibboleth``, the ``shibd``
service) are never used: each instance has a folder of its own under the system temp dir
(readable by the Apache user, whose children read the configuration and open the socket)
holding its ``shibboleth2.xml``, ``attribute-map.xml``, key and certificate (made by
``shib-keygen``, as Debian's README says), log settings, socket and PID file; ``shibd -F``
runs in the foreground and is stopped by its PID. Only Debian's untouched files are read
from ``/etc/shibboleth``: ``protocols.xml``, ``security-policy.xml``, ``attribute-policy.xml``
and the error templates.

The configuration is Debian's ``shibboleth2.xml`` with what a partner must change (entity
IDs, the proxy's metadata, keys) plus what plain http on loopback needs
(``handlerSSL="false" cookieProps="http"``): see :func:`shibboleth2_xml`.
``attribute-map.xml`` maps every attribute of NC Connect's dictionary (its ``urn:oid``
name, ``attrname-format:uri``) to its friendly name, so an attribute the proxy should not
have released would show, and both NameID formats to ``persistent-id`` /
``transient-id``, so the test sees which one came.

The partner sends NC Connect what Shibboleth's own metadata handler
(``/Shibboleth.sso/Metadata``) publishes; that needs both programs running, before the
proxy does, so :meth:`ShibbolethSP.publish_metadata` starts them without an IdP, reads
it and stops them; :meth:`ShibbolethSP.start` then starts them again knowing the proxy.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

import requests

from ...dictionary.model import load_dictionary
from ..federation import DICTIONARY
from ..servers import free_port
from .apache import MODULES_DIR, PrivateApache
from .application import LOGGED_OUT_PAGE, LOGGED_OUT_PATH, SYSTEM_PYTHON, environment_cgi
from .process import PeerProcess, require_executable, require_file, tail

PACKAGE = "libapache2-mod-shib"
#: Debian's untouched files a Shibboleth SP reads besides its own configuration.
DEBIAN_CONFIG = Path("/etc/shibboleth")
HANDLER = "/Shibboleth.sso"
PROTECTED = "/protege"
ATTRIBUTES_PATH = f"{PROTECTED}/attributs.cgi"

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
#: attribute-map ids of the NameID, by format.
NAME_ID_IDS = {PERSISTENT: "persistent-id", TRANSIENT: "transient-id"}

#: log4shib settings: everything at ``%(level)s`` into one file of the instance.
LOGGER = """\
log4j.rootCategory=%(level)s, file
log4j.category.XMLTooling.XMLObject=WARN
log4j.category.XMLTooling.XMLObjectBuilder=WARN
log4j.category.XMLTooling.KeyInfoResolver=WARN
log4j.category.Shibboleth.PropertySet=WARN
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.fileName=%(log)s
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=%%d{%%H:%%M:%%S} %%p %%c %%x: %%m%%n
"""


def attribute_ids() -> dict[str, str]:
    """NC Connect dictionary name -> the ``id`` Shibboleth gives its attribute: the
    dictionary's SAML friendly name (``givenName``, ``sn``…), as Shibboleth's own map does."""
    dictionary = load_dictionary(DICTIONARY)
    return {name: a.saml.friendly for name, a in dictionary.attributes.items()}


def attribute_map_xml() -> str:
    """Every NC Connect attribute (``urn:oid`` name, NameFormat uri: Shibboleth's default),
    and the NameID of either format, as a partner's ``attribute-map.xml`` maps them."""
    dictionary = load_dictionary(DICTIONARY)
    lines = [f'    <Attribute name={quoteattr(a.saml.name)} id={quoteattr(a.saml.friendly)}/>'
             for a in dictionary.attributes.values()]
    name_ids = [f"""    <Attribute name="{fmt}" id="{NAME_ID_IDS[fmt]}">
        <AttributeDecoder xsi:type="NameIDAttributeDecoder" formatter="$Name"/>
    </Attribute>""" for fmt in (PERSISTENT, TRANSIENT)]
    return ('<Attributes xmlns="urn:mace:shibboleth:2.0:attribute-map"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            + "\n".join([*name_ids, *lines]) + "\n</Attributes>\n")


def shibboleth2_xml(folder: Path, entity_id: str, idp_entity_id: str | None) -> str:
    """The SP's configuration. ``idp_entity_id`` None: no IdP yet (only the metadata
    handler is of use). ``signing`` is left to its default, ``false``: AuthnRequests go
    unsigned, but Shibboleth signs its LogoutRequests anyway (SAML requires them
    authenticated), so the partner file keeps ``logout_requests: signed``."""
    idp = "" if idp_entity_id is None else f" entityID={quoteattr(idp_entity_id)}"
    metadata = "" if idp_entity_id is None else (
        f'\n        <MetadataProvider type="XML" validate="true" path="{folder}/nc-connect.xml"/>')
    return f"""\
<SPConfig xmlns="urn:mace:shibboleth:3.0:native:sp:config"
    xmlns:conf="urn:mace:shibboleth:3.0:native:sp:config" clockSkew="180">

    <OutOfProcess logger="{folder}/shibd.logger"/>
    <InProcess logger="{folder}/native.logger"/>
    <UnixListener address="{folder}/shibd.sock"/>

    <ApplicationDefaults entityID={quoteattr(entity_id)}
        REMOTE_USER="persistent-id transient-id">
        <Sessions lifetime="28800" timeout="3600" relayState="ss:mem"
                  checkAddress="false" handlerSSL="false" cookieProps="http"
                  redirectLimit="exact">
            <SSO{idp}>SAML2</SSO>
            <Logout>SAML2 Local</Logout>
            <Handler type="MetadataGenerator" Location="/Metadata" signing="false"/>
            <Handler type="Status" Location="/Status" acl="127.0.0.1 ::1"/>
            <Handler type="Session" Location="/Session" showAttributeValues="false"/>
        </Sessions>
        <Errors supportContact="interop@example.nc" helpLocation="/about.html"
            styleSheet="/shibboleth-sp/main.css"/>{metadata}
        <AttributeExtractor type="XML" validate="true" reloadChanges="false"
            path="{folder}/attribute-map.xml"/>
        <AttributeFilter type="XML" validate="true" path="{DEBIAN_CONFIG}/attribute-policy.xml"/>
        <CredentialResolver type="File" use="signing"
            key="{folder}/sp-key.pem" certificate="{folder}/sp-cert.pem"/>
        <CredentialResolver type="File" use="encryption"
            key="{folder}/sp-key.pem" certificate="{folder}/sp-cert.pem"/>
    </ApplicationDefaults>

    <SecurityPolicyProvider type="XML" validate="true"
        path="{DEBIAN_CONFIG}/security-policy.xml"/>
    <ProtocolProvider type="XML" validate="true" reloadChanges="false"
        path="{DEBIAN_CONFIG}/protocols.xml"/>
</SPConfig>
"""


def _entity_id_of(metadata_xml: str) -> str:
    found = re.search(r"<(?:\w+:)?EntityDescriptor\b[^>]*\bentityID=\"([^\"]+)\"", metadata_xml)
    if found is None:
        raise RuntimeError("no EntityDescriptor entityID in the proxy's metadata")
    return found.group(1)


class ShibbolethSP:
    """A ``shibd`` and a private Apache with ``mod_shib``, both on 127.0.0.1; ``folder``
    receives their logs when they stop."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.shibd_binary = require_executable("shibd", PACKAGE)
        self.keygen = require_executable("shib-keygen", PACKAGE)
        self.module = require_file(MODULES_DIR / "mod_shib.so", PACKAGE)
        for name in ("protocols.xml", "security-policy.xml", "attribute-policy.xml"):
            require_file(DEBIAN_CONFIG / name, PACKAGE)
        self.python = require_file(SYSTEM_PYTHON, "python3")
        self.logs = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # The Apache user reads this folder (configuration, certificate) and opens the
        # socket in it; pytest's folders are private to root.
        self.root = Path(tempfile.mkdtemp(prefix="ncc-interop-shibd-"))
        self.root.chmod(0o755)
        self._write_own_files()
        self.shibd: PeerProcess | None = None
        self.apache: PrivateApache | None = None
        self.metadata: str | None = None

    @property
    def entity_id(self) -> str:
        """Shibboleth's naming convention: ``https://<host>/shibboleth`` (here http)."""
        return f"{self.url}/shibboleth"

    @property
    def protected_url(self) -> str:
        return self.url + ATTRIBUTES_PATH

    @property
    def logged_out_url(self) -> str:
        return self.url + LOGGED_OUT_PATH

    @property
    def metadata_url(self) -> str:
        return f"{self.url}{HANDLER}/Metadata"

    @property
    def socket(self) -> Path:
        return self.root / "shibd.sock"

    def logout_url(self) -> str:
        """SP-initiated logout, as an application links it: ``/Shibboleth.sso/Logout`` and
        where to land afterwards."""
        return f"{self.url}{HANDLER}/Logout?return={quote(self.logged_out_url, safe='')}"

    def _write_own_files(self) -> None:
        """Key and certificate by ``shib-keygen`` (owned by whoever runs the test, 0600
        key: only ``shibd`` reads it), log settings, attribute map."""
        user = os.getuid()
        subprocess.run([self.keygen, "-o", str(self.root), "-h", "127.0.0.1", "-y", "1",
                        "-e", self.entity_id, "-n", "sp", "-f",
                        "-u", str(user), "-g", str(os.getgid())],
                       check=True, capture_output=True, timeout=60)
        logs = self.root / "logs"
        logs.mkdir()
        (logs / "native.log").touch()
        if os.geteuid() == 0:
            # mod_shib logs as the Apache user (PrivateApache's ``User www-data``) once its
            # root parent, which creates the file when it reads the configuration, has forked.
            for path in (logs, logs / "native.log"):
                shutil.chown(path, "www-data", "www-data")
        logs.chmod(0o755)
        (self.root / "shibd.logger").write_text(
            LOGGER % {"level": "INFO", "log": logs / "shibd.log"}, encoding="utf-8")
        (self.root / "native.logger").write_text(
            LOGGER % {"level": "INFO", "log": logs / "native.log"}, encoding="utf-8")
        (self.root / "attribute-map.xml").write_text(attribute_map_xml(), encoding="utf-8")
        for name in ("shibd.logger", "native.logger", "attribute-map.xml", "sp-cert.pem"):
            (self.root / name).chmod(0o644)

    def site(self) -> str:
        root = PrivateApache.ROOT
        return f"""
LoadModule mod_shib {self.module}
ShibConfig "{self.root}/shibboleth2.xml"
ShibCompatValidUser Off
ScriptAlias {ATTRIBUTES_PATH} "{root}/cgi-bin/attributs.cgi"
<Location {HANDLER}>
    AuthType None
    Require all granted
</Location>
<Location {PROTECTED}>
    AuthType shibboleth
    ShibRequestSetting requireSession 1
    Require shib-session
</Location>
"""

    def _start(self, idp_entity_id: str | None) -> None:
        """``shibd`` (until its socket appears), then Apache (until it serves)."""
        (self.root / "shibboleth2.xml").write_text(
            shibboleth2_xml(self.root, self.entity_id, idp_entity_id),
            encoding="utf-8")
        (self.root / "shibboleth2.xml").chmod(0o644)
        self._start_shibd()
        files = {"cgi-bin/attributs.cgi": environment_cgi(self.python, "mod_shib", "env"),
                 f"htdocs{LOGGED_OUT_PATH}": LOGGED_OUT_PAGE}
        self.apache = PrivateApache(self.logs / "apache", (), self.site(), files,
                                    port=self.port)
        self.apache.start(LOGGED_OUT_PATH)

    def _start_shibd(self, timeout: float = 30) -> None:
        """``shibd -F``: in the foreground, our configuration and PID file; ``-f`` removes
        a socket a killed run left. Ready when its socket exists."""
        self.shibd = PeerProcess(
            "shibd", [self.shibd_binary, "-F", "-f", "-c", str(self.root / "shibboleth2.xml"),
                      "-p", str(self.root / "shibd.pid")],
            f"unix:{self.socket}", self.root / "logs" / "shibd.out")
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.shibd.proc.poll() is not None:
                raise RuntimeError(self._failure(f"shibd exited with {self.shibd.proc.returncode}"))
            if time.monotonic() > deadline:
                raise TimeoutError(self._failure(f"shibd made no socket within {timeout}s"))
            time.sleep(0.1)

    def _failure(self, what: str) -> str:
        logs = [self.root / "logs" / name for name in ("shibd.out", "shibd.log", "native.log")]
        return "\n".join([what, *(f"--- {log}:\n{tail(log)}" for log in logs)])

    def publish_metadata(self) -> str:
        """What ``/Shibboleth.sso/Metadata`` publishes: both programs are started without an
        IdP, asked, and stopped."""
        try:
            self._start(None)
            resp = requests.get(self.metadata_url, timeout=10)
            if resp.status_code != 200 or "EntityDescriptor" not in resp.text:
                raise RuntimeError(self._failure(
                    f"no metadata at {self.metadata_url}: HTTP {resp.status_code}"))
            self.metadata = resp.text
        finally:
            self._stop_processes()
        return self.metadata

    def start(self, idp_metadata_xml: str) -> ShibbolethSP:
        """Both programs again, the proxy's metadata as the only IdP's (``<SSO entityID>``)."""
        (self.root / "nc-connect.xml").write_text(idp_metadata_xml, encoding="utf-8")
        (self.root / "nc-connect.xml").chmod(0o644)
        try:
            self._start(_entity_id_of(idp_metadata_xml))
        except BaseException:
            self.stop()
            raise
        return self

    def _stop_processes(self) -> None:
        try:
            if self.apache is not None:
                self.apache.stop()
        finally:
            self.apache = None
            if self.shibd is not None:
                self.shibd.stop()
            self.shibd = None

    def stop(self) -> None:
        """Both stopped by PID; the instance's logs and configuration copied to ``logs``,
        its folder removed."""
        try:
            self._stop_processes()
        finally:
            if self.root.exists():
                keep = self.logs / "shibboleth"
                keep.mkdir(parents=True, exist_ok=True)
                for path in [*(self.root / "logs").iterdir(), self.root / "shibboleth2.xml"]:
                    if path.is_file():
                        shutil.copy(path, keep / path.name)
                shutil.rmtree(self.root, ignore_errors=True)

    def log_files(self) -> list[Path]:
        """Where a failure's reason is, while running (then in ``logs``)."""
        base = self.root / "logs" if self.root.exists() else self.logs / "shibboleth"
        apache = [self.apache.error_log] if self.apache is not None else []
        return [base / "shibd.log", base / "native.log", *apache]


def environment(body: str) -> dict[str, str]:
    """The CGI environment the page behind mod_shib printed."""
    try:
        return dict(json.loads(body)["env"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionError(f"not the page behind mod_shib: {body[:300]!r}") from exc


def split_values(value: str) -> list[str]:
    """Shibboleth joins an attribute's values with ``;`` and escapes ``;`` in a value."""
    return [v.replace("\\;", ";") for v in re.split(r"(?<!\\);", value)]


def attributes(env: dict[str, str], ids: Iterable[str]) -> dict[str, list[str]]:
    """id -> values, for the attribute ``ids`` present in the environment."""
    return {i: split_values(env[i]) for i in ids if i in env}


def name_id_format(env: dict[str, str]) -> str | None:
    """The format of the NameID Shibboleth received (the attribute map names either)."""
    found = [fmt for fmt, i in NAME_ID_IDS.items() if i.replace("-", "_") in env or i in env]
    if len(found) > 1:
        raise AssertionError(f"both NameID formats in the environment: {found}")
    return found[0] if found else None

