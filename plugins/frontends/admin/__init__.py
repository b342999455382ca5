"""The administration portal (``/admin/``): the federation's administrators and DPO.

A SATOSA frontend of its own, like *Mon espace NC Connect*: people sign in to it through
NC Connect itself, as the reserved requester ``ncconnect:administration``, at level
``substantial`` or higher. What they may do comes from a role (:mod:`.roles`) held in the
shared store under their account key and bound by a one-time enrolment link
(:mod:`.enrolment`, ``ncconnect admin add``): the home page, the list of role holders and
the DPO's diffusion report (:mod:`.view`); partner organisations' members (role ``partner``)
at ``/partenaires/``, their service requests and the administrators' decisions
(:mod:`.workflow`, :mod:`.formulaire`, :mod:`.demandes`).
"""
