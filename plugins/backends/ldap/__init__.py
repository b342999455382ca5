"""NC Connect's own citizen accounts (LDAP) as an identity source: a login form of the proxy."""
