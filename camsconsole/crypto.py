"""Secrets at rest: Fernet tokens under the keys in settings.ENCRYPTION_KEYS.

MultiFernet encrypts with the first key and decrypts with any, so a key rotation is: put the new
key first, run `manage.py rotate_encryption_key`, then drop the old key.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    # Built per call so that override_settings in tests and a changed environment both apply.
    return MultiFernet([Fernet(key) for key in settings.ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError(
            "a stored secret cannot be decrypted with CAMS_ENCRYPTION_KEYS: was a key dropped "
            "before `manage.py rotate_encryption_key` ran?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the current first key."""
    return _fernet().rotate(token.encode()).decode()
