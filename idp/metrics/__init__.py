"""Prometheus metrics of the proxy (:mod:`.definitions`), shared by the gunicorn workers
through prometheus-client's multiprocess mode (:mod:`.multiprocess`) and served at
``/metrics`` to a scraper holding the bearer token of the settings (:mod:`.exposition`).

No personal data, and bounded label values: partner ids come from the registry, never from
the request (:mod:`.labels`). ``docs/exploitation/metriques.md`` lists them."""
