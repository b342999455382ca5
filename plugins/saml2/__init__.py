"""SAML binding code both sides of the proxy use: our IdP frontend (towards SPs) and our SP
backend (towards identity sources) read the same Redirect and POST bindings, verify the same
query signatures and apply the same message checks, so the code lives here, imported by both,
and no backend imports a frontend."""
