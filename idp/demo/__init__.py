"""The demo federation's peers: identity sources and partner services of a test territory.

Each peer is a small, real WSGI application (pyop, pysaml2, cryptojwt underneath)
that speaks its protocol strictly, so ``ncconnect demo`` and the end-to-end tests
exercise NC Connect against genuine counterparts. None of them binds a socket:
``serve.BackgroundServer`` runs them on loopback.
"""
