"""Real third-party partners of the proxy, installed from Debian, for interoperability tests.

SimpleSAMLphp (as SP and as IdP) under PHP's built-in server, and a private Apache with
mod_auth_openidc or mod_auth_mellon. Each runs as its own process on a free 127.0.0.1
port, with its whole configuration in a private folder, started by the test and stopped by
its PID: nothing under /etc is read for configuration or changed, and no system service
is involved. ``scripts/setup.sh`` installs the packages.
"""
