"""SimpleSAMLphp 1.19 (Debian's ``simplesamlphp``) as a SAML SP or IdP, under ``php -S``.

Each instance gets a private configuration folder (``SIMPLESAMLPHP_CONFIG_DIR``):
``config.php``, ``authsources.php``, its metadata, certificates, sessions and logs, all
in the test's folder, so the Debian configuration in /etc/simplesamlphp is neither read
nor changed. ``baseurlpath`` is the instance's full URL, so SimpleSAMLphp never guesses
its own address from request headers.

Metadata of the other side is turned into SimpleSAMLphp's PHP arrays with its own parser
(what its admin "metadata converter" page does), so the test exchanges metadata the way
a partner does, not with a hand-written array.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bs4 import BeautifulSoup

from ...keys import write_key_pair
from ..servers import free_port
from .process import PeerProcess, require_executable, require_file

SSP_ROOT = Path("/usr/share/simplesamlphp")
PACKAGE = "simplesamlphp"

#: PHP's built-in server runs SimpleSAMLphp's front controllers from ``www``. Paths such as
#: ``/module.php/saml/sp/metadata.php/default-sp`` carry PATH_INFO after the script, which
#: the router sets explicitly; anything else (CSS, images) is served as a static file.
ROUTER = """<?php
$www = '%(www)s';
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
if ($path === '/' || $path === '') {
    $path = '/index.php';
}
if (preg_match('#^(/[^?]*?\\.php)(/.*)?$#', $path, $m) && is_file($www . $m[1])) {
    $script = $www . $m[1];
    $_SERVER['SCRIPT_NAME'] = $m[1];
    $_SERVER['SCRIPT_FILENAME'] = $script;
    $_SERVER['PHP_SELF'] = $path;
    if (isset($m[2]) && $m[2] !== '') {
        $_SERVER['PATH_INFO'] = $m[2];
    } else {
        unset($_SERVER['PATH_INFO']);
    }
    chdir(dirname($script));
    require $script;
    return true;
}
return false;
"""

#: ``php convert.php <metadata.xml> <set> <out.php>``: SimpleSAMLphp's own metadata parser,
#: as in www/admin/metadata-converter.php, writing one ``$metadata[...]`` file.
CONVERTER = """<?php
require '%(root)s/lib/_autoload.php';
$xml = trim(file_get_contents($argv[1]));
\\SimpleSAML\\Utils\\XML::checkSAMLMessage($xml, 'saml-meta');
$out = "<?php\\n";
foreach (\\SimpleSAML\\Metadata\\SAMLParser::parseDescriptorsString($xml) as $id => $entity) {
    $md = $argv[2] === 'saml20-idp-remote' ? $entity->getMetadata20IdP()
                                           : $entity->getMetadata20SP();
    if ($md === null) {
        fwrite(STDERR, "$id has no {$argv[2]} role\\n");
        exit(2);
    }
    unset($md['entityDescriptor']);
    $out .= '$metadata[' . var_export($id, true) . '] = ' . var_export($md, true) . ";\\n";
}
file_put_contents($argv[3], $out);
"""


class PhpCode(str):
    """PHP source written as is (a constant such as ``SimpleSAML\\Logger::DEBUG``)."""


def _php(value: object) -> str:
    """A PHP literal for strings, booleans, None, lists and dicts (JSON-compatible data)."""
    if isinstance(value, PhpCode):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list):
        return "[" + ", ".join(_php(v) for v in value) + "]"
    if isinstance(value, dict):
        return "[" + ", ".join(f"{_php(k)} => {_php(v)}" for k, v in value.items()) + "]"
    raise TypeError(f"no PHP literal for {type(value).__name__}")


def php_file(variable: str, entries: dict[str, object]) -> str:
    """``<?php $variable = [...];`` one entry a line."""
    body = "".join(f"    {_php(k)} => {_php(v)},\n" for k, v in entries.items())
    return f"<?php\n${variable} = [\n{body}];\n"


@dataclass(frozen=True)
class Layout:
    """Where one instance keeps everything (all under its own folder)."""

    folder: Path

    @property
    def config(self) -> Path:
        return self.folder / "config"

    @property
    def metadata(self) -> Path:
        return self.folder / "metadata"

    @property
    def cert(self) -> Path:
        return self.folder / "cert"

    @property
    def log(self) -> Path:
        return self.folder / "log" / "simplesamlphp.log"

    @property
    def php_errors(self) -> Path:
        return self.folder / "log" / "php-errors.log"

    def make(self) -> None:
        for sub in ("config", "metadata", "cert", "log", "data", "tmp", "sessions"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)


class SimpleSamlPhp:
    """One SimpleSAMLphp installation, configured but not started (see :meth:`start`)."""

    role = "instance"

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.php = require_executable("php", "php-cli")
        require_file(SSP_ROOT / "www" / "module.php", PACKAGE)
        self.paths = Layout(folder)
        self.paths.make()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: PeerProcess | None = None
        self.admin_password = secrets.token_urlsafe(16)

    # -- configuration ----------------------------------------------------------

    def settings(self) -> dict[str, object]:
        """``config.php``: the settings a partner's SimpleSAMLphp would have, on loopback."""
        folder = self.paths.folder
        return {
            "baseurlpath": f"{self.url}/",
            "certdir": f"{self.paths.cert}/",
            "loggingdir": f"{self.paths.log.parent}/",
            "datadir": f"{folder}/data/",
            "tempdir": str(folder / "tmp"),
            "metadatadir": f"{self.paths.metadata}/",
            "technicalcontact_name": "Tests NC Connect",
            "technicalcontact_email": "tests@example.nc",
            "secretsalt": secrets.token_hex(32),
            "auth.adminpassword": self.admin_password,
            "admin.checkforupdates": False,
            "timezone": "UTC",
            "logging.handler": "file",
            "logging.level": PhpCode("SimpleSAML\\Logger::DEBUG"),
            "logging.logfile": self.paths.log.name,
            "showerrors": True,
            "errorreporting": False,
            "production": False,
            "module.enable": {"core": True, "saml": True},
            "store.type": "phpsession",
            "session.phpsession.savepath": f"{folder}/sessions",
            # Plain http on loopback: a Secure cookie would never come back.
            "session.cookie.secure": False,
            "session.cookie.samesite": None,
            "language.cookie.secure": False,
            "language.cookie.samesite": None,
            "language.default": "en",
        }

    def authsources(self) -> str:
        """The entries of ``authsources.php`` (PHP source: a class name first, then keys)."""
        return "    'admin' => ['core:AdminPassword'],\n"

    def write_config(self) -> None:
        (self.paths.config / "authsources.php").write_text(
            f"<?php\n$config = [\n{self.authsources()}];\n", encoding="utf-8")
        (self.paths.config / "config.php").write_text(php_file("config", self.settings()),
                                                      encoding="utf-8")
        (self.paths.folder / "router.php").write_text(
            ROUTER % {"www": SSP_ROOT / "www"}, encoding="utf-8")

    @property
    def env(self) -> dict[str, str]:
        return {"SIMPLESAMLPHP_CONFIG_DIR": str(self.paths.config)}

    # -- metadata exchange --------------------------------------------------------

    def import_metadata(self, xml: str, metadata_set: str) -> None:
        """Write ``metadata/<set>.php`` from a SAML metadata document, with SSP's parser."""
        source = self.paths.folder / f"{metadata_set}.xml"
        source.write_text(xml, encoding="utf-8")
        script = self.paths.folder / "convert-metadata.php"
        script.write_text(CONVERTER % {"root": SSP_ROOT}, encoding="utf-8")
        target = self.paths.metadata / f"{metadata_set}.php"
        done = subprocess.run([self.php, "-d", "display_errors=stderr", str(script), str(source),
                               metadata_set, str(target)],
                              env={**self.env, "PATH": "/usr/bin:/bin"},
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0 or not target.exists():
            raise RuntimeError(f"SimpleSAMLphp could not read the metadata for {metadata_set} "
                               f"(exit {done.returncode}): {done.stderr.strip()[-2000:]}")

    # -- process --------------------------------------------------------------------

    def start(self, timeout: float = 30) -> SimpleSamlPhp:
        self.write_config()
        self.process = PeerProcess(
            f"SimpleSAMLphp {self.role}",
            [self.php, "-d", "display_errors=0", "-d", "log_errors=1",
             "-d", f"error_log={self.paths.php_errors}", "-d", "opcache.enable_cli=0",
             "-S", f"127.0.0.1:{self.port}", "-t", str(SSP_ROOT / "www"),
             str(self.paths.folder / "router.php")],
            self.url, self.paths.folder / "log" / "php-server.log", env=self.env)
        self.process.wait_until_serving("/module.php/core/frontpage_welcome.php", timeout,
                                        logs=(self.paths.log, self.paths.php_errors))
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()


class SimpleSamlSP(SimpleSamlPhp):
    """The ``default-sp`` authsource, as shipped: no key of its own (unsigned AuthnRequests
    and LogoutRequests), transient NameID asked, no attributes requested in its metadata.
    Its only change from the example is ``idp``: the proxy, so no discovery page."""

    role = "SP"
    AUTHSOURCE = "default-sp"

    def __init__(self, folder: Path, idp_entity_id: str, port: int | None = None) -> None:
        super().__init__(folder, port)
        self.idp_entity_id = idp_entity_id

    def authsources(self) -> str:
        return (super().authsources()
                + f"    {_php(self.AUTHSOURCE)} => ['saml:SP', 'entityID' => null,\n"
                f"        'idp' => {_php(self.idp_entity_id)}, 'discoURL' => null],\n")

    @property
    def entity_id(self) -> str:
        """``entityID => null``: SimpleSAMLphp names the SP after its metadata URL."""
        return self.metadata_url

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/module.php/saml/sp/metadata.php/{self.AUTHSOURCE}"

    @property
    def test_page(self) -> str:
        """SimpleSAMLphp's "test an authentication source" page: signs in, then lists the
        attributes received (the service of these tests)."""
        return f"{self.url}/module.php/core/authenticate.php?as={self.AUTHSOURCE}"

    def trust_idp(self, metadata_xml: str) -> None:
        """Register the proxy: ``metadata/saml20-idp-remote.php`` from its metadata."""
        self.import_metadata(metadata_xml, "saml20-idp-remote")


@dataclass(frozen=True)
class SspUser:
    """An ``exampleauth:UserPass`` account: username, password, attributes (name -> values)."""

    username: str
    password: str
    attributes: dict[str, list[str]]


class SimpleSamlIdP(SimpleSamlPhp):
    """A SAML IdP with ``exampleauth:UserPass``, SimpleSAMLphp's defaults otherwise: signed
    assertions, transient NameID, ``AuthnContextClassRef`` Password (http) or
    PasswordProtectedTransport (https), attribute NameFormat basic, logout messages on the
    Redirect binding unsigned. ``hosted`` adds options to ``saml20-idp-hosted.php``
    (e.g. ``{"sign.logout": True}``)."""

    role = "IdP"
    AUTHSOURCE = "example-userpass"

    def __init__(self, folder: Path, users: list[SspUser], port: int | None = None,
                 hosted: dict[str, object] | None = None) -> None:
        super().__init__(folder, port)
        self.users = users
        self.hosted = dict(hosted or {})
        write_key_pair(self.paths.cert / "idp.pem", self.paths.cert / "idp.crt",
                       "SimpleSAMLphp IdP de test")

    def settings(self) -> dict[str, object]:
        base = super().settings()
        return {**base, "enable.saml20-idp": True,
                "module.enable": {**base["module.enable"], "exampleauth": True}}  # type: ignore[dict-item]

    def authsources(self) -> str:
        users = "".join(f"        {_php(f'{u.username}:{u.password}')} => {_php(u.attributes)},\n"
                        for u in self.users)
        return (super().authsources() + f"    {_php(self.AUTHSOURCE)} => [\n"
                f"        'exampleauth:UserPass',\n{users}    ],\n")

    def write_config(self) -> None:
        super().write_config()
        (self.paths.metadata / "saml20-idp-hosted.php").write_text(
            "<?php\n$metadata['__DYNAMIC:1__'] = " + _php({
                "host": "__DEFAULT__", "privatekey": "idp.pem", "certificate": "idp.crt",
                "auth": self.AUTHSOURCE, **self.hosted}) + ";\n", encoding="utf-8")

    @property
    def entity_id(self) -> str:
        """``__DYNAMIC:1__``: the IdP is named after its metadata URL."""
        return self.metadata_url

    @property
    def metadata_url(self) -> str:
        return f"{self.url}/saml2/idp/metadata.php"

    def trust_sp(self, metadata_xml: str) -> None:
        """Register the proxy's SP for one source: ``metadata/saml20-sp-remote.php``."""
        self.import_metadata(metadata_xml, "saml20-sp-remote")


def auth_data_of_status_page(html: str) -> dict[str, object]:
    """The session data SimpleSAMLphp's status page prints as JSON ("AuthData": attributes,
    IdP, SessionIndex, AuthnContext…), in its legacy PHP templates (the default in 1.19) or
    in its Twig ones (``#authdata``)."""
    soup = BeautifulSoup(html, "html.parser")
    for block in soup.select("#authdata, details pre"):
        try:
            data = json.loads(block.get_text())
        except ValueError:
            continue
        if isinstance(data, dict) and "Attributes" in data:
            return data
    raise AssertionError("not SimpleSAMLphp's authentication status page (no AuthData)")


def attributes_of_status_page(html: str) -> dict[str, list[str]]:
    """The attributes the SP's test page shows: SAML attribute name -> values."""
    return dict(auth_data_of_status_page(html)["Attributes"])  # type: ignore[arg-type]
