"""OpenID Connect identity sources: authorization code flow with PKCE, verified by hand.

We do not use ``oic``'s client: it accepts unsigned (``alg=none``) ID tokens in
the code flow. Every check an ID token must pass is written out in
:mod:`.id_token`, keys come only from the provider's published JWKS.
"""
