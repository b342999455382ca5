"""mod_auth_mellon 0.18 (Debian's ``libapache2-mod-auth-mellon``) as a SAML SP under Apache.

Set up the way its documentation tells a partner to: ``mellon_create_metadata`` makes the
SP's key, certificate and metadata (signed AuthnRequests, Redirect SingleLogoutService,
HTTP-POST ACS), which the partner sends to NC Connect (``metadata_file``); the proxy's IdP
metadata is saved as ``MellonIdPMetadataFile``. Everything else is the module's default
(it asks for a transient NameID), except ``MellonSamlResponseDump On``, which hands the
application the SAML response too, so the test can read the NameID's format. A CGI behind
``/protege/`` prints the ``MELLON_*`` variables the module hands to the application (CGI
turns the characters of ``urn:oid:2.5.4.42`` that are not letters or digits into ``_``).
Logout is ``/mellon/logout?ReturnTo=…``.

Since the SP's metadata is a file, Apache is started after the proxy, once the proxy's
metadata can be fetched (:meth:`ModAuthMellonSP.start`).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
from pathlib import Path
from urllib.parse import quote

from ..servers import free_port
from .apache import PrivateApache
from .application import LOGGED_OUT_PAGE, LOGGED_OUT_PATH, SYSTEM_PYTHON, environment_cgi
from .process import require_executable, require_file

ENDPOINT = "/mellon"
PROTECTED = "/protege"
ATTRIBUTES_PATH = f"{PROTECTED}/attributs.cgi"


class ModAuthMellonSP:
    """A private Apache with mod_auth_mellon; :meth:`start` needs the proxy's metadata."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.script = require_executable("mellon_create_metadata", "libapache2-mod-auth-mellon")
        self.python = require_file(SYSTEM_PYTHON, "python3")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        subprocess.run([self.script, self.entity_id, self.url + ENDPOINT], cwd=folder,
                       check=True, capture_output=True, timeout=60)
        stem = re.sub("_+", "_", re.sub(r"[^0-9A-Za-z.]", "_", self.entity_id))
        self.key, self.cert, self.metadata = (folder / f"{stem}.{ext}"
                                              for ext in ("key", "cert", "xml"))
        self.apache: PrivateApache | None = None

    @property
    def entity_id(self) -> str:
        return f"{self.url}{ENDPOINT}/metadata"

    @property
    def protected_url(self) -> str:
        return self.url + ATTRIBUTES_PATH

    @property
    def logged_out_url(self) -> str:
        return self.url + LOGGED_OUT_PATH

    def logout_url(self) -> str:
        return f"{self.url}{ENDPOINT}/logout?ReturnTo={quote(self.logged_out_url, safe='')}"

    def metadata_xml(self) -> str:
        """What the partner sends to NC Connect."""
        return self.metadata.read_text(encoding="utf-8")

    def site(self) -> str:
        root = PrivateApache.ROOT
        return f"""
MellonLockFile "{root}/run/mellon.lock"
ScriptAlias {ATTRIBUTES_PATH} "{root}/cgi-bin/attributs.cgi"
<Location />
    MellonEndpointPath {ENDPOINT}
    MellonSPPrivateKeyFile "{root}/mellon/sp.key"
    MellonSPCertFile "{root}/mellon/sp.cert"
    MellonSPMetadataFile "{root}/mellon/sp.xml"
    MellonIdPMetadataFile "{root}/mellon/idp.xml"
</Location>
<Location {PROTECTED}>
    AuthType Mellon
    MellonEnable auth
    MellonSamlResponseDump On
    Require valid-user
</Location>
"""

    def start(self, idp_metadata_xml: str) -> ModAuthMellonSP:
        """Apache with the proxy's metadata as the IdP's. (The SP key must be readable by the
        Apache user: a throw-away test key, in the instance's own folder.)"""
        files = {"mellon/sp.key": self.key.read_text(encoding="utf-8"),
                 "mellon/sp.cert": self.cert.read_text(encoding="utf-8"),
                 "mellon/sp.xml": self.metadata_xml(),
                 "mellon/idp.xml": idp_metadata_xml,
                 "cgi-bin/attributs.cgi": environment_cgi(
                     self.python, "mod_auth_mellon", "mellon", "MELLON_"),
                 f"htdocs{LOGGED_OUT_PATH}": LOGGED_OUT_PAGE}
        self.apache = PrivateApache(self.folder / "logs", ("auth_mellon",), self.site(), files,
                                    port=self.port, log_level="warn auth_mellon:info")
        self.apache.start(LOGGED_OUT_PATH)
        return self

    def stop(self) -> None:
        if self.apache is not None:
            self.apache.stop()


def mellon_variables(body: str) -> dict[str, str]:
    """The MELLON_* variables (without the prefix) the CGI behind mod_auth_mellon printed."""
    try:
        return dict(json.loads(body)["mellon"])
    except (ValueError, KeyError, TypeError) as exc:
        raise AssertionError(f"not the page behind mod_auth_mellon: {body[:300]!r}") from exc


#: Variables mod_auth_mellon sets that are not attributes of the assertion.
NOT_ATTRIBUTES = frozenset({"NAME_ID", "ASSERTION_ID", "IDP", "SESSION", "SAML_RESPONSE"})


def env_name(saml_name: str) -> str:
    """How an attribute name reaches a CGI: every character but letters and digits as ``_``."""
    return re.sub(r"[^A-Za-z0-9]", "_", saml_name)


def mellon_attributes(variables: dict[str, str]) -> dict[str, list[str]]:
    """Attribute (CGI name) -> values. Mellon sets ``NAME`` (first value) and ``NAME_0``,
    ``NAME_1``… (each value); since names end in digits too (``urn_oid_2_5_4_4``), a key
    is a value of ``NAME`` only when ``NAME`` itself is set."""
    out: dict[str, list[str]] = {}
    for key in sorted(variables, key=lambda k: (k.rpartition("_")[0], k.rpartition("_")[2])):
        name, _, index = key.rpartition("_")
        if index.isdigit() and name in variables and name not in NOT_ATTRIBUTES:
            out.setdefault(name, []).append(variables[key])
    return out


def name_id_format(variables: dict[str, str]) -> str | None:
    """The NameID Format in the SAML response mellon dumped (``MellonSamlResponseDump``)."""
    dumped = variables.get("SAML_RESPONSE")
    if not dumped:
        raise AssertionError("no MELLON_SAML_RESPONSE: is MellonSamlResponseDump On?")
    try:
        xml = base64.b64decode(dumped).decode("utf-8")
    except ValueError:
        xml = dumped
    found = re.search(r"<(?:\w+:)?NameID\b[^>]*\bFormat=\"([^\"]+)\"", xml)
    return found.group(1) if found else None
