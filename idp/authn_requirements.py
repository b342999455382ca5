"""What a service's request demands of the authentication, in one record both protocols share.

The frontends translate their protocol's words into it — OIDC ``prompt``,
``max_age`` and ``acr_values``; SAML ``ForceAuthn``, ``IsPassive`` and
``RequestedAuthnContext`` — and keep it in the flow state. The SSO-session
micro-service, the choice page, the consent screen and the frontends' answers then
read one meaning instead of two vocabularies:

* ``force``: the citizen must authenticate again at a source (``prompt=login``,
  ``max_age=0``, ``ForceAuthn``); an SSO session is not reused;
* ``passive``: no page may be shown (``prompt=none``, ``IsPassive``); what cannot be
  done silently is answered with a protocol error (``login_required``,
  ``consent_required``, SAML ``NoPassive``);
* ``max_age``: an SSO session is reused only if the citizen authenticated at most
  this many seconds ago;
* ``loa_min``: the least level the response must reach — the service's own minimum,
  raised by what the request asked (``loa_asked``);
* ``claimable``: the levels the response may *state* (SAML ``exact`` lists exactly
  these; an authentication at ``high`` is stated as the highest of them it reaches);
* ``acr_style``: OIDC services that asked ``eidas2`` get ``acr=eidas2``-style answers;
* ``consent_prompt``: OIDC ``prompt=consent``, for the consent screen to honour.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from satosa.context import Context

from idp import loa
from idp.partners.schema import LOA_LEVELS

#: Flow-state key of the record.
STATE_KEY = "ncc_exigences"
#: Longest ``acr`` / class reference passed on unchanged when it names no eIDAS level.
MAX_RAW_LEVEL = 256


class LevelNotMet(Exception):
    """A response does not prove the level its request required (never expected: the choice,
    the backends and the SSO session all check the level first; the frontends check again)."""


@dataclass(frozen=True)
class Requirements:
    force: bool = False
    passive: bool = False
    max_age: int | None = None
    loa_min: str = loa.LOW
    loa_asked: str | None = None
    claimable: tuple[str, ...] = LOA_LEVELS
    acr_style: str = loa.STYLE_URI
    consent_prompt: bool = False

    def with_service_minimum(self, service_min: str) -> Requirements:
        """The effective minimum: the highest of the service's and the request's."""
        return replace(self, loa_min=loa.highest([self.loa_min, service_min]))

    @property
    def satisfiable(self) -> bool:
        """Whether some level is both at least ``loa_min`` and claimable."""
        return any(loa.reaches(level, self.loa_min) for level in self.claimable)

    @property
    def raised_by_request(self) -> bool:
        """Whether the request, not only the service's partner file, set ``loa_min``."""
        return self.loa_asked is not None and self.loa_asked == self.loa_min

    def stated_level(self, reached: str) -> str | None:
        """The level the response states for an authentication at ``reached``: the highest
        claimable level it reaches; ``None`` if none (never a level not reached)."""
        fitting = [level for level in self.claimable if loa.reaches(reached, level)]
        return loa.highest(fitting) if fitting else None

    def state_level(self, value: object) -> str | None:
        """What a response states for the level its source reached (``value``: the eIDAS
        URI the backends give): the eIDAS form of the highest level it may claim, in the
        service's style. A value naming no eIDAS level (test sources) passes unchanged, and
        only when nothing above ``low`` was required. Raises :class:`LevelNotMet`."""
        level = loa.level_of(value)
        if level is None:
            if self.loa_min != loa.LOW:
                raise LevelNotMet("the response states no eIDAS level")
            return value if isinstance(value, str) and 0 < len(value) <= MAX_RAW_LEVEL else None
        stated = self.stated_level(level)
        if stated is None or not loa.reaches(level, self.loa_min):
            raise LevelNotMet(f"the response reaches {level}, the request required {self.loa_min}")
        return loa.stated(stated, self.acr_style)

    def session_usable_at(self, auth_time: int, now: float) -> bool:
        """Whether an authentication made at ``auth_time`` satisfies ``force`` and ``max_age``."""
        if self.force:
            return False
        return self.max_age is None or now - auth_time <= self.max_age

    def to_state(self) -> dict[str, Any]:
        data = asdict(self)
        data["claimable"] = list(self.claimable)
        return data

    @classmethod
    def from_state(cls, data: Any) -> Requirements:
        """The record from the flow state; a missing one (a frontend that records none, such as
        NC Connect's own space) gives the defaults. The service's minimum is applied again
        downstream whatever the record says."""
        if not isinstance(data, dict):
            return cls()
        try:
            levels = tuple(x for x in data.get("claimable", LOA_LEVELS) if x in LOA_LEVELS)
            max_age = data.get("max_age")
            return cls(
                force=bool(data.get("force", False)),
                passive=bool(data.get("passive", False)),
                max_age=max_age if isinstance(max_age, int) and max_age >= 0 else None,
                loa_min=data["loa_min"] if data.get("loa_min") in LOA_LEVELS else loa.LOW,
                loa_asked=data["loa_asked"] if data.get("loa_asked") in LOA_LEVELS else None,
                claimable=levels or LOA_LEVELS,
                acr_style=loa.STYLE_EIDAS if data.get("acr_style") == loa.STYLE_EIDAS
                else loa.STYLE_URI,
                consent_prompt=bool(data.get("consent_prompt", False)),
            )
        except (TypeError, KeyError):
            return cls()


def record(context: Context, requirements: Requirements) -> None:
    """Keep the request's requirements in the flow state (frontends, at request time)."""
    context.state[STATE_KEY] = requirements.to_state()


def requirements_of(context: Context) -> Requirements:
    """This flow's requirements; the defaults when no frontend recorded any."""
    state = context.state
    return Requirements.from_state(state.get(STATE_KEY) if state is not None else None)
