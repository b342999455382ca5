"""*Mon espace NC Connect* (``/mon-compte``): the citizen's own view of what NC Connect did.

A SATOSA frontend, because the citizen signs in to it through NC Connect itself,
exactly as at a partner service (choice page, identity source, pairwise account key,
minimisation, history); only the "service" is the proxy. The page lists the consents
the citizen gave (and lets them withdraw each one) and their connection history.
"""
