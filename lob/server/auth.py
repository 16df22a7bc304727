"""API keys: which account a bearer key speaks for.

Why this shape: a key must not leak through timing or logs. Keys are looked up
by their SHA-256 digest (a dict probe on a digest tells an attacker nothing
about the key) and then confirmed with ``hmac.compare_digest``; only digests
are kept in memory after start-up, and no key is ever logged.

Sources, in order: ``--api-key ACCOUNT:KEY`` options, the ``LOB_API_KEYS``
environment variable (``ACCOUNT:KEY`` pairs separated by commas or spaces),
then ``api-keys.json`` in the data directory. With none of them, ``lob serve``
creates keys for a ``demo`` account and stores them there (mode 0600).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path

__all__ = ["KEYS_FILE", "AuthError", "KeyStore", "generate_key", "parse_key_specs"]

KEYS_FILE = "api-keys.json"
DEMO_ACCOUNTS = ("demo",)
_ACCOUNT = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_MIN_KEY = 8


class AuthError(ValueError):
    """A key specification that cannot be used."""


def generate_key() -> str:
    return "lob_" + secrets.token_urlsafe(24)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()


def parse_key_specs(specs: list[str]) -> list[tuple[str, str]]:
    """``ACCOUNT:KEY`` texts to pairs; ``AuthError`` names the bad one (without the key)."""
    pairs = []
    for spec in specs:
        account, sep, key = spec.partition(":")
        if not sep or not _ACCOUNT.fullmatch(account):
            raise AuthError("an API key is given as ACCOUNT:KEY (account: letters, digits, _.-)")
        if len(key) < _MIN_KEY or any(c.isspace() for c in key):
            raise AuthError(f"the key for {account!r} must be {_MIN_KEY}+ characters, no spaces")
        pairs.append((account, key))
    return pairs


class KeyStore:
    """Bearer key -> account."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._by_digest: dict[bytes, tuple[bytes, str]] = {}
        for account, key in pairs:
            digest = _digest(key)
            self._by_digest[digest] = (digest, account)
        self.accounts = sorted({a for a, _ in pairs})

    def __len__(self) -> int:
        return len(self._by_digest)

    def account_for(self, key: str | None) -> str | None:
        """The account ``key`` belongs to, or None."""
        if not key:
            return None
        digest = _digest(key)
        entry = self._by_digest.get(digest)
        if entry is None:
            hmac.compare_digest(digest, digest)  # same work on a miss
            return None
        return entry[1] if hmac.compare_digest(entry[0], digest) else None

    def account_for_header(self, value: str | None) -> str | None:
        """The account of an ``Authorization: Bearer KEY`` header value."""
        if not value:
            return None
        scheme, _, key = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        return self.account_for(key.strip())


def load_keys(
    specs: list[str], env: str | None, data_dir: Path
) -> tuple[KeyStore, list[tuple[str, str]] | None]:
    """The key store to serve with, and the pairs if they were just created.

    The created pairs are returned so that the caller can tell the user how to
    use them once; otherwise the second item is None.
    """
    pairs = parse_key_specs(specs)
    if env:
        pairs += parse_key_specs([s for s in re.split(r"[,\s]+", env) if s])
    if pairs:
        return KeyStore(pairs), None
    path = data_dir / KEYS_FILE
    if path.exists():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            pairs = parse_key_specs([f"{e['account']}:{e['key']}" for e in stored["keys"]])
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError(f"{path} is not a key file: {exc}") from None
        return KeyStore(pairs), None
    pairs = [(account, generate_key()) for account in DEMO_ACCOUNTS]
    data_dir.mkdir(parents=True, exist_ok=True)
    body = json.dumps({"keys": [{"account": a, "key": k} for a, k in pairs]}, indent=2)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(body + "\n")
    return KeyStore(pairs), pairs
