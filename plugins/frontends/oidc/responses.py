"""HTTP responses of the provider: JSON documents and redirects to a client."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from satosa.response import Response, SeeOther

from .errors import OAuthError

STATUS = {200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized",
          405: "405 Method Not Allowed"}

#: RFC 6749 §5.1: token responses, and anything else carrying tokens or claims.
NO_STORE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


def json_response(body: dict[str, Any], status: int = 200,
                  headers: list[tuple[str, str]] | None = None,
                  cache: list[tuple[str, str]] | None = None) -> Response:
    """A JSON document; not cacheable unless ``cache`` says otherwise."""
    all_headers = list(cache if cache is not None else NO_STORE) + list(headers or [])
    return Response(json.dumps(body, ensure_ascii=False), status=STATUS[status],
                    headers=all_headers, content="application/json")


def error_json(err: OAuthError) -> Response:
    return json_response({"error": err.error, "error_description": err.description},
                         err.status, err.headers)


def with_query(uri: str, params: dict[str, str | None]) -> str:
    """``uri`` with ``params`` added to its query (registered URIs have no fragment)."""
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


def redirect_to_client(uri: str, params: dict[str, str | None]) -> SeeOther:
    return SeeOther(with_query(uri, params))
