"""JSON log lines, and quiet libraries: pysaml2 and SATOSA log whole messages
(names, birth dates) at DEBUG/INFO, which RGPD forbids us to keep."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from pathlib import Path

from .correlation import LoginIdFilter

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info and record.exc_info[0] is not None:
            entry.update(_where(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _where(exc_info) -> dict[str, object]:
    """An exception's type and the frames it went through (file, line, function), never its
    message nor local values: what an operator needs to find the bug, without the personal
    data a message may quote."""
    frames = traceback.extract_tb(exc_info[2])[-6:]
    return {"exc_type": exc_info[0].__name__,
            "frames": [f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames]}


#: Third-party loggers that put message contents in their lines below WARNING.
CHATTY = ("satosa", "oic", "pyop", "cryptojwt", "urllib3")
SILENCED = ("saml2", "xmlschema")


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    # Every line written while serving a login says which (idp.correlation).
    handler.addFilter(LoginIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in CHATTY:
        logging.getLogger(name).setLevel(logging.WARNING)
    # pysaml2 puts whole SAML documents (names, birth dates) in its ERROR lines when a
    # signature fails; our backends log the reason themselves, without the document.
    for name in SILENCED:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)
