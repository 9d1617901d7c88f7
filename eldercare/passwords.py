"""Password and device-secret hashing."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of an operator's password."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


# Device secrets are 128-bit random tokens, not human passwords, so a salted SHA-256 is enough and keeps
# provisioning a city's worth of devices fast; argon2 is kept for what people choose.
def hash_device_secret(secret: str, salt: str | None = None) -> str:
    salt = salt if salt is not None else secrets.token_hex(8)
    digest = hashlib.sha256(f"{salt}:{secret}".encode()).hexdigest()
    return f"sha256${salt}${digest}"


def verify_device_secret(secret_hash: str, secret: str) -> bool:
    """Whether ``secret`` is the device's: a salted SHA-256 (seeded) or Mosquitto's ``$7$`` (the register)."""
    if secret_hash.startswith("$7$"):
        from devices.mosquitto import verify_password_hash

        return verify_password_hash(secret_hash, secret)
    try:
        scheme, salt, _ = secret_hash.split("$", 2)
    except ValueError:
        return False
    return scheme == "sha256" and hmac.compare_digest(hash_device_secret(secret, salt), secret_hash)
