"""The audit trail: what happened in each login, by attribute *names*, under the citizen's
pseudonymous account key, in a stream of its own (:mod:`.stream`), recorded through
:func:`.events.audit_event`, and read back for a citizen's RGPD access request
(:mod:`.report`, ``ncconnect audit citizen``)."""
