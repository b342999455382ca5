"""One-time codes hold across worker processes, not only across threads."""

from __future__ import annotations

import multiprocessing

from .conftest import basic, redeem_in_child


def test_concurrent_redemptions_from_two_processes_give_one_success(op):
    ctx = multiprocessing.get_context("spawn")
    login = op.login()
    rp = login.rp
    form = {"grant_type": "authorization_code", "code": login.code,
            "redirect_uri": login.redirect_uri, "code_verifier": login.verifier}
    headers = {"Authorization": basic(rp.client_id, rp.secret)}
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=redeem_in_child,
                           args=(op.config, op.store_url, form, headers, barrier, results))
               for _ in range(2)]
    for w in workers:
        w.start()
    statuses = sorted(results.get(timeout=90) for _ in workers)
    for w in workers:
        w.join(timeout=30)

    assert statuses == [200, 400]
