"""A complete federation on loopback for tests and benchmarks: real peers, real proxy.

Shipped in the package (not under tests/) because ``bench/`` drives the same
federation with the same scripted browser.
"""
