"""Tests of the identity-source backends (plugins/backends) against real pyop/pysaml2 peers."""
