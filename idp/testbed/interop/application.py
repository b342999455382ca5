"""The application behind a partner's Apache module, as the interop tests see it.

mod_auth_openidc, mod_auth_mellon and mod_shib each protect a location and hand the
application what they received as CGI environment variables (``OIDC_CLAIM_*``,
``MELLON_*``, or Shibboleth's attribute ids). One CGI prints them as JSON, so a test reads
exactly what the partner's application would; an unprotected page is where logout lands.
"""

from __future__ import annotations

from pathlib import Path

#: Debian's interpreter, which Apache's user can run (not a virtualenv's or pyenv's under /root).
SYSTEM_PYTHON = Path("/usr/bin/python3")
#: The unprotected page where a logout ends.
LOGGED_OUT_PATH = "/au-revoir.html"
LOGGED_OUT_PAGE = """<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Déconnecté</title></head>
<body><p id="deconnecte">Vous êtes déconnecté du service de test.</p></body></html>
"""

_ENVIRONMENT_CGI = """#!%(python)s
# What the application behind %(module)s receives: its CGI environment%(which)s.
import json
import os

PREFIX = %(prefix)r
found = {k[len(PREFIX):]: v for k, v in os.environ.items() if k.startswith(PREFIX)}
print("Content-Type: application/json")
print("Cache-Control: no-store")
print()
print(json.dumps({"remote_user": os.environ.get("REMOTE_USER"), %(key)r: found}))
"""


def environment_cgi(python: Path | str, module: str, key: str, prefix: str = "") -> str:
    """A CGI printing ``{"remote_user": …, key: {variable without prefix: value}}`` for the
    variables starting with ``prefix`` (all of them when it is empty)."""
    which = f" ({prefix}* variables)" if prefix else ""
    return _ENVIRONMENT_CGI % {"python": python, "module": module, "which": which,
                               "prefix": prefix, "key": key}
