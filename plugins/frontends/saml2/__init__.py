"""SAML 2.0 IdP frontend of NC Connect (``plugins.frontends.saml2.frontend.SAML2Frontend``)."""
