"""A test frontend: starts a login on GET and answers the backend's result as JSON.

It stands in for the real OIDC/SAML frontends so that the backends are driven
through SATOSA's real machinery (routing, state, callbacks) and their output
can be compared with what the identity source sent.
"""

from __future__ import annotations

import json

from satosa.frontends.base import FrontendModule
from satosa.internal import InternalData
from satosa.response import Response

REQUESTER = "urn:test:service"


def _json(data: dict, status: str = "200 OK") -> Response:
    return Response(json.dumps(data), status=status, content="application/json")


class JsonFrontend(FrontendModule):
    def __init__(self, auth_req_callback_func, internal_attributes, config, base_url, name):
        super().__init__(auth_req_callback_func, internal_attributes, base_url, name)
        self.backend_names: list[str] = []

    def register_endpoints(self, backend_names):
        self.backend_names = list(backend_names)
        return [("^test/login$", self.login)]

    def login(self, context):
        source = context.request.get("source", "")
        if source not in self.backend_names:
            return _json({"error": "unknown source"}, "404 Not Found")
        context.target_backend = source
        return self.auth_req_callback_func(context, InternalData(requester=REQUESTER))

    def handle_authn_response(self, context, internal_resp):
        return _json({
            "attributes": internal_resp.attributes,
            "subject_id": internal_resp.subject_id,
            "auth_info": internal_resp.auth_info.to_dict(),
            "requester": internal_resp.requester,
        })

    def handle_backend_error(self, exception):
        return _json({"error": exception.args[0] if exception.args else "error"})
