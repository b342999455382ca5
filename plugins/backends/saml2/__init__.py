"""SAML 2.0 identity sources: signed AuthnRequest out (HTTP-Redirect), signed assertion in
(HTTP-POST), with every check pysaml2 leaves optional made mandatory here."""
