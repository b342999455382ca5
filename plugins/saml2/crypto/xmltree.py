"""Parsing and writing the documents the in-process backend works on (lxml, as libxmlsec1
needs it).

The parser reads no DTD, resolves no entity, never touches the network and refuses
a document with a ``DOCTYPE`` at all, like the rest of the proxy (defusedxml). The node a
signature covers is found by its ``ID`` *and* its element name, and must be the only element
of the document carrying that identifier (as ``ID`` or ``xml:id``): libxmlsec1 resolves
``URI="#…"`` by identifier, so a second element with the same one could be the one verified
while the first is the one used.
"""

from __future__ import annotations

from lxml import etree

from .errors import CryptoRefused

DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XML_ID = "{http://www.w3.org/XML/1998/namespace}id"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                          dtd_validation=False, huge_tree=False, remove_blank_text=False,
                          remove_comments=False, remove_pis=False, collect_ids=False)


def parse(document: str | bytes) -> etree._Element:
    """The root of ``document`` (text or UTF-8 bytes)."""
    data = document.encode("utf-8") if isinstance(document, str) else bytes(document)
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise CryptoRefused(f"document is not well-formed XML ({exc})") from exc
    if root is None:
        raise CryptoRefused("empty document")
    if root.getroottree().docinfo.doctype:
        raise CryptoRefused("document with a DOCTYPE")
    return root


def serialize(root: etree._Element) -> str:
    """The whole document again, with an XML declaration (as ``xmlsec1`` writes it)."""
    return etree.tostring(root.getroottree(), xml_declaration=True,
                          encoding="UTF-8").decode("utf-8")


def clark(node_name: str) -> str:
    """pysaml2's ``namespace:Tag`` (e.g. ``urn:oasis:…:assertion:Assertion``) as ``{ns}Tag``."""
    namespace, _, tag = node_name.rpartition(":")
    if not namespace or not tag:
        raise CryptoRefused(f"not a qualified element name: {node_name!r}")
    return f"{{{namespace}}}{tag}"


def node_by_id(root: etree._Element, node_name: str, node_id: str | None) -> etree._Element:
    """The one element named ``node_name`` whose ``ID`` is ``node_id`` (no ``node_id``: the
    root, which must then be that element). No other element may carry that identifier."""
    tag = clark(node_name)
    if not node_id:
        if root.tag != tag or not root.get("ID"):
            raise CryptoRefused(f"document root is not a {node_name} with an ID")
        node_id = root.get("ID")
    holders = [el for el in root.iter()
               if isinstance(el.tag, str)
               and (el.get("ID") == node_id or el.get(XML_ID) == node_id)]
    if len(holders) != 1:
        raise CryptoRefused(f"{len(holders)} elements carry the identifier {node_id!r}")
    node = holders[0]
    if node.tag != tag or node.get("ID") != node_id:
        raise CryptoRefused(f"the element with ID {node_id!r} is not a {node_name}")
    return node


def own_signature(node: etree._Element) -> etree._Element:
    """The one ``ds:Signature`` directly inside ``node`` (enveloped, SAML core §5.4.1)."""
    found = node.findall(f"{{{DS}}}Signature")
    if len(found) != 1:
        raise CryptoRefused(f"{len(found)} Signature elements directly in the signed element")
    return found[0]
