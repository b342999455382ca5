"""Schema validation of signed SAML elements with libxml2, in place of pysaml2's ``xmlschema``.

pysaml2 validates every element whose signature it checks against the SAML schemas before
the check (``saml2.sigver._check_signature``): the Response, then the Assertion inside it
again. It does so with ``xmlschema``, a pure-Python validator: about 2 ms per element, a
third of the proxy's CPU on a login with a SAML source (``bench/profile.py``). libxml2 (through
lxml, already loaded for python-xmlsec) validates the same document against the same XSD
files, those pysaml2 ships, in about 0.05 ms.

The check stays the one pysaml2 makes: same schemas, strict, every element of a known
namespace validated, the same exception on failure (``saml2.xml.schema.XMLSchemaError``,
which ``_check_signature`` turns into a refused signature). ``tests/saml_crypto/
test_schema_validation.py`` holds both validators to the same verdicts on valid and
schema-invalid documents. pysaml2 offers no hook for its validator, so :func:`install`
replaces the module attribute ``_check_signature`` calls; a test asserts that pysaml2 still
calls it by that name, so an upgrade that moves it fails the suite instead of silently
going back to the slow path.

The schemas are loaded once per process, from the package's own files only: libxml2's
network access is off, and the imports the XSDs make by ``http://www.w3.org/...`` location
are satisfied first by local copies (libxml2 skips a second import of a namespace).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import saml2.data.schemas
import saml2.sigver
from lxml import etree
from saml2.xml.schema import XMLSchemaError

#: Every namespace pysaml2's validator knows, with the file it reads for it
#: (``saml2.xml.schema._create_xml_schema_validator``). The order matters: a namespace is
#: imported from its local file before any schema imports it from the W3C's site.
NAMESPACE_FILES: dict[str, str] = {
    "http://www.w3.org/XML/1998/namespace": "xml.xsd",
    "http://www.w3.org/2000/09/xmldsig#": "xmldsig-core-schema.xsd",
    "http://www.w3.org/2001/04/xmlenc#": "xenc-schema.xsd",
    "http://www.w3.org/2009/xmlenc11#": "xenc-schema-11.xsd",
    "http://schemas.xmlsoap.org/soap/envelope/": "envelope.xsd",
    "urn:oasis:names:tc:SAML:2.0:assertion": "saml-schema-assertion-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:protocol": "saml-schema-protocol-2.0.xsd",
    "urn:oasis:names:tc:SAML:2.0:metadata": "saml-schema-metadata-2.0.xsd",
    "http://eidas.europa.eu/metadata/servicelist": "eidas-schema-metadata-servicelist.xsd",
    "http://eidas.europa.eu/saml-extensions": "eidas-schema-saml-extensions.xsd",
    "http://eidas.europa.eu/attributes/naturalperson":
        "eidas-schema-attribute-naturalperson.xsd",
    "http://eidas.europa.eu/attributes/legalperson": "eidas-schema-attribute-legalperson.xsd",
}

#: Parsing the element to validate: it was already parsed (by defusedxml) before pysaml2
#: built its objects, and is pysaml2's own serialisation of them; still, no DTD loaded, no
#: entity expanded, no network, no huge tree (and a document type declaration is refused).
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          huge_tree=False, remove_blank_text=False)


@cache
def saml_schema() -> etree.XMLSchema:
    """The SAML schemas (and those they use), compiled once per process."""
    folder = Path(str(files(saml2.data.schemas)))
    imports = "".join(
        f'<xs:import namespace="{namespace}" schemaLocation="{(folder / name).as_uri()}"/>'
        for namespace, name in NAMESPACE_FILES.items())
    wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.fromstring(wrapper, parser,
                                            base_url=(folder / "ncconnect.xsd").as_uri()))


def validate(doc: str | bytes) -> None:
    """Raise ``XMLSchemaError`` (pysaml2's) unless ``doc`` is valid against the SAML schemas."""
    data = doc.encode("utf-8") if isinstance(doc, str) else doc
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise XMLSchemaError({"error": f"not well-formed: {exc}"}) from exc
    if root.getroottree().docinfo.doctype:
        # SAML has no use for a DTD, and pysaml2's parser (defusedxml) refuses one.
        raise XMLSchemaError({"error": "a document type declaration is not allowed"})
    schema = saml_schema()
    try:
        valid = schema.validate(root)
    except etree.XMLSchemaValidateError as exc:
        raise XMLSchemaError({"error": f"not validated: {exc}"}) from exc
    if not valid:
        error = schema.error_log.last_error
        raise XMLSchemaError({"error": f"line {error.line}: {error.message}"
                              if error else "invalid"})


def install() -> None:
    """Make pysaml2's signature checks validate with :func:`validate` (idempotent)."""
    saml_schema()
    saml2.sigver.validate_doc_with_schema = validate
