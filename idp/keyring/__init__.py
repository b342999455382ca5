"""Keys of the proxy with rollover: the keyring in ``DATA_DIR/keys`` (:mod:`.model`), its
files (:mod:`.storage`), the rollover rules (:mod:`.rules`), and what workers read
(:mod:`.loader`, :mod:`.secret_set`)."""

from .loader import KeyringView, view_for, view_of_file
from .model import PURPOSES, KeyRecord, Keyring
from .rules import Overlaps, Refused
from .secret_set import SecretSet, secret_set
from .storage import ensure_keyring, has_keyring

__all__ = ["PURPOSES", "KeyRecord", "Keyring", "KeyringView", "Overlaps", "Refused",
           "SecretSet", "ensure_keyring", "has_keyring", "secret_set", "view_for",
           "view_of_file"]
