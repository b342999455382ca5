from __future__ import annotations

import pytest

from .parties import Parties, make_parties


@pytest.fixture(scope="session")
def parties(tmp_path_factory) -> Parties:
    return make_parties(tmp_path_factory.mktemp("saml-crypto"))
