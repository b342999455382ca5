"""NC Connect's OpenID Connect provider, as a SATOSA frontend.

Written for this proxy rather than wrapping pyop: every grant lives in the shared
store (one-time codes via ``take``), PKCE is never skipped, userinfo is bound to
the grant, and no token or personal datum reaches a log line.
"""
