"""LDAP code shared by the NC Connect account source (a backend) and the administration
directories of enrichment (a micro-service): one connection per directory and process, with
timeouts, reconnection and escaped filters, so neither plugin imports the other."""
