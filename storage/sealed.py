"""Secrets at rest: a value sealed with Fernet (AES-128-CBC and HMAC-SHA256, from the
``cryptography`` package) under keys the settings hold, never the database.

``DESTEK_SECRET_KEYS`` is a comma-separated list of Fernet keys (``destek secret-key`` makes
one); the first seals new values, every one opens them, so a key is rotated by putting the new
one first and running ``destek ai reseal``. A sealed value reads ``fernet:<token>``; a value
stored before sealing existed reads as it was and is sealed by ``reseal``.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PREFIX = "fernet:"


class SecretKeyError(ValueError):
    """No key to seal or open with, a key that is not a Fernet key, or a value sealed under
    a key the settings no longer hold. The message names the setting, never a value."""


class Sealer:
    """Seals and opens secrets with the configured keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        try:
            fernets = [Fernet(k.encode()) for k in keys]
        except ValueError:
            raise SecretKeyError("DESTEK_SECRET_KEYS holds a value that is not a Fernet key "
                                 "(destek secret-key makes one)") from None
        self._fernet = MultiFernet(fernets) if fernets else None
        self._first = fernets[0] if fernets else None

    @classmethod
    def from_setting(cls, value: str | None) -> Sealer:
        """The sealer of the comma-separated ``DESTEK_SECRET_KEYS`` value."""
        return cls([k.strip() for k in (value or "").split(",") if k.strip()])

    @staticmethod
    def new_key() -> str:
        """A fresh random key for ``DESTEK_SECRET_KEYS``."""
        return Fernet.generate_key().decode()

    def seal(self, plain: str) -> str:
        """``plain`` sealed under the first key."""
        if self._fernet is None:
            raise SecretKeyError("set DESTEK_SECRET_KEYS to store a customer's API key "
                                 "(destek secret-key makes one)")
        return PREFIX + self._fernet.encrypt(plain.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        """The plain value of ``stored`` (a value from before sealing reads as it is)."""
        if not stored or not stored.startswith(PREFIX):
            return stored
        if self._fernet is None:
            raise SecretKeyError("a sealed API key needs DESTEK_SECRET_KEYS to be read")
        try:
            return self._fernet.decrypt(stored[len(PREFIX):].encode()).decode()
        except InvalidToken:
            raise SecretKeyError("a sealed API key does not open with DESTEK_SECRET_KEYS "
                                 "(was its key removed?)") from None

    def reseal(self, stored: str | None) -> str | None:
        """``stored`` sealed under the first key (plain values sealed, old keys rotated); as
        it is when it is sealed under the first key already."""
        if self.is_sealed(stored) and self._first is not None:
            try:
                self._first.decrypt((stored or "")[len(PREFIX):].encode())
                return stored
            except InvalidToken:
                pass
        plain = self.open(stored)
        return self.seal(plain) if plain else stored

    @staticmethod
    def is_sealed(stored: str | None) -> bool:
        return bool(stored and stored.startswith(PREFIX))
