"""Value formats of the dictionary: each one turns what a source sent into the one canonical
form partners receive, or refuses it.

A value that does not fit its format is dropped rather than passed on: a partner
that asked for a birth date must be able to parse what it gets, and a malformed
value is more often a source's bug than a real identity. Normalisers return
``None`` to refuse and never raise.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable

#: Longest value of any attribute, after normalisation (a postal address fits).
MAX_VALUE_LENGTH = 256

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SPACES = re.compile(r"\s+")
_NAME = re.compile(r"^[^\W\d_]+(?:[ '’\-.][^\W\d_]+)*\.?$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")
_E164 = re.compile(r"^\+[1-9][0-9]{5,14}$")
#: COG code of a commune: department (two digits, 2A/2B, or 97x/98x) and number.
_COG_COMMUNE = re.compile(r"^(?:[0-9]{2}|2[AB])[0-9]{3}$")
#: COG code of a country or territory abroad: 99 then three digits (99100 is France).
_COG_COUNTRY = re.compile(r"^99[0-9]{3}$")
_CAFAT = re.compile(r"^[0-9]{6,9}$")
#: RIDET: 7-digit company number, optionally a 3-digit establishment rank.
_RIDET = re.compile(r"^([0-9]{7})(?:\.?([0-9]{3}))?$")

GENDERS = ("female", "male")
PROVINCES = ("Province Sud", "Province Nord", "Province des îles Loyauté")
_PROVINCE_KEYS = {"sud": PROVINCES[0], "nord": PROVINCES[1], "iles": PROVINCES[2],
                  "ilesloyaute": PROVINCES[2], "loyaute": PROVINCES[2]}


def _clean(value: str) -> str | None:
    text = unicodedata.normalize("NFC", value).strip()
    if not text or len(text) > MAX_VALUE_LENGTH or _CONTROL.search(text):
        return None
    return _SPACES.sub(" ", text)


def text(value: str) -> str | None:
    return _clean(value)


def name(value: str) -> str | None:
    """A person's name: letters, with the separators names really use."""
    text = _clean(value)
    return text if text is not None and _NAME.match(text) else None


def date(value: str) -> str | None:
    """ISO 8601 calendar date, not in the future; also accepts a date-time's date part."""
    text = (_clean(value) or "")[:10]
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    if len(text) != 10 or day > dt.date.today() or day.year < 1880:
        return None
    return day.isoformat()


def gender(value: str) -> str | None:
    text = (_clean(value) or "").lower()
    return text if text in GENDERS else None


def cog_commune(value: str) -> str | None:
    text = (_clean(value) or "").upper()
    return text if _COG_COMMUNE.match(text) and not text.startswith("99") else None


def cog_country(value: str) -> str | None:
    text = _clean(value) or ""
    return text if _COG_COUNTRY.match(text) else None


def email(value: str) -> str | None:
    text = _clean(value)
    return text if text is not None and _EMAIL.match(text) else None


def phone_e164(value: str) -> str | None:
    text = re.sub(r"[ .\-()]", "", _clean(value) or "")
    return text if _E164.match(text) else None


def cafat_number(value: str) -> str | None:
    text = (_clean(value) or "").replace(" ", "")
    return text if _CAFAT.match(text) else None


def ridet(value: str) -> str | None:
    """Canonical ``1234567.001`` or ``1234567``; the usual spaces are accepted."""
    match = _RIDET.match((_clean(value) or "").replace(" ", ""))
    if not match:
        return None
    return f"{match[1]}.{match[2]}" if match[2] else match[1]


def province(value: str) -> str | None:
    folded = fold(value).replace(" ", "").replace("-", "").removeprefix("PROVINCE")
    folded = folded.removeprefix("DES").removeprefix("DE").lower()
    return _PROVINCE_KEYS.get(folded)


def fold(value: str) -> str:
    """Case, accents and spacing removed: what two spellings of one name have in common."""
    decomposed = unicodedata.normalize("NFKD", value)
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", re.sub(r"[’'\-.]", " ", letters)).strip().upper()


FORMATS: dict[str, Callable[[str], str | None]] = {
    "text": text,
    "name": name,
    "date": date,
    "gender": gender,
    "cog_commune": cog_commune,
    "cog_country": cog_country,
    "email": email,
    "phone_e164": phone_e164,
    "address": text,
    "cafat_number": cafat_number,
    "ridet": ridet,
    "province": province,
}
