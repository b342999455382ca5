"""The store contract of tests/stores, run unchanged against a Redis Sentinel cluster
(``redis+sentinel://``, one-time writes waiting for a replica)."""

from __future__ import annotations

import pytest

from tests.stores.test_store_contract import (  # noqa: F401 - collected here, on sentinel
    ns,
    store,
    test_a_counter_keeps_the_window_it_was_created_with,
    test_a_short_item_does_not_shorten_the_life_of_the_others,
    test_add_refuses_a_key_already_present,
    test_count_of_an_absent_counter_is_zero,
    test_delete_forgets_and_tolerates_absent_keys,
    test_delete_item_forgets_one_item_and_says_whether_it_was_there,
    test_delete_owner_forgets_the_whole_collection_only,
    test_each_item_expires_on_its_own,
    test_get_of_an_absent_key_is_none,
    test_incr_counts_from_one_and_reports_the_time_left,
    test_incr_is_atomic_across_processes,
    test_item_ttl_must_be_positive,
    test_items_of_an_owner_are_listed_together_and_sorted,
    test_items_of_an_unknown_owner_is_empty,
    test_namespaces_do_not_see_each_other,
    test_oversized_record_is_refused,
    test_put_many_forgets_the_deleted_records_in_the_same_step,
    test_put_many_keeps_each_ttl,
    test_put_many_writes_all_or_none,
    test_put_many_writes_records_and_items_together,
    test_put_then_get_returns_the_record,
    test_records_expire_after_their_ttl,
    test_replace_never_brings_back_a_taken_or_expired_record,
    test_replace_updates_a_present_record_and_its_ttl,
    test_reset_forgets_a_counter_and_tolerates_absent_ones,
    test_take_is_atomic_across_processes,
    test_take_returns_the_record_once,
    test_zero_ttl_is_refused,
)


@pytest.fixture
def store_url(shared_cluster):
    return shared_cluster.url()
