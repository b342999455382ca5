"""The directory's own password policy (OpenLDAP ppolicy), told in clear French."""

from __future__ import annotations

import pytest

from .conftest import password_of
from .journey import open_form, post_login, problem_of, problem_text

CASES = [
    ("ana.verrouillee", "compte_verrouille", "verrouillé"),
    ("luc.expire", "mot_de_passe_expire", "expiré"),
    ("eva.achanger", "mot_de_passe_a_changer", "doit être changé"),
]


@pytest.mark.parametrize(("uid", "code", "words"), CASES, ids=[c[1] for c in CASES])
def test_a_policy_state_is_shown_instead_of_a_login(fed, browser, uid, code, words):
    resp = post_login(browser, open_form(browser, fed), uid, password_of(uid))
    assert resp.status_code == 403
    assert problem_of(resp) == code
    assert words in problem_text(resp)
    assert "Mot de passe oublié" in resp.text
