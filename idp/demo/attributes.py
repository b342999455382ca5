"""Names of the identity attributes on each protocol, and their French labels.

The demo peers are outside parties: they carry their own copy of the mapping
instead of reading NC Connect's dictionary, as a real source or service would.
"""

from __future__ import annotations

#: OIDC claim -> (SAML attribute Name, FriendlyName, French label).
ATTRIBUTES: dict[str, tuple[str, str, str]] = {
    "given_name": ("urn:oid:2.5.4.42", "givenName", "Prénoms"),
    "family_name": ("urn:oid:2.5.4.4", "sn", "Nom de naissance"),
    "preferred_username": ("urn:oid:0.9.2342.19200300.100.1.1", "uid", "Nom d'usage"),
    "birthdate": ("urn:oid:1.3.6.1.5.5.7.9.1", "dateOfBirth", "Date de naissance"),
    "gender": ("urn:oid:1.3.6.1.5.5.7.9.3", "gender", "Sexe"),
    "birthplace": ("urn:oid:1.3.6.1.5.5.7.9.2", "placeOfBirth", "Lieu de naissance (code COG)"),
    "birthcountry": ("urn:oid:1.3.6.1.5.5.7.9.4", "countryOfCitizenship",
                     "Pays de naissance (code COG)"),
    "email": ("urn:oid:0.9.2342.19200300.100.1.3", "mail", "Adresse électronique"),
    "phone_number": ("urn:oid:2.5.4.20", "telephoneNumber", "Numéro de téléphone"),
}

SUB_LABEL = "Identifiant de l'usager (sub)"
NAMEID_LABEL = "Identifiant de l'usager (NameID)"

#: SAML attribute Name -> OIDC claim.
CLAIM_OF_URN = {urn: claim for claim, (urn, _, _) in ATTRIBUTES.items()}


def claim_label(claim: str) -> str:
    if claim == "sub":
        return SUB_LABEL
    return ATTRIBUTES[claim][2] if claim in ATTRIBUTES else claim


def urn_label(name: str) -> str:
    if name == "nameid":
        return NAMEID_LABEL
    claim = CLAIM_OF_URN.get(name)
    return ATTRIBUTES[claim][2] if claim else name


def ordered(names: list[str], known_order: list[str]) -> list[str]:
    """Known names in dictionary order first, then the others alphabetically."""
    rank = {name: i for i, name in enumerate(known_order)}
    return sorted(names, key=lambda n: (rank.get(n, len(rank)), n))


CLAIM_ORDER = ["sub", *ATTRIBUTES]
URN_ORDER = ["nameid", *(urn for urn, _, _ in ATTRIBUTES.values())]
