"""Password hashing with argon2id (memory-hard), with rehash when the parameters are raised.

Hashing and verifying take ~100 ms of CPU each: they run on one worker thread of their own (argon2 releases the
GIL), so a burst of logins queues there and never stalls the event loop that serves every socket, nor takes
both cores from the fast path.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

_hasher = PasswordHasher()  # argon2id, library defaults (64 MiB, 3 iterations)

# Verified against when the user does not exist, so that response time does not reveal valid usernames.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 8
# The most common passwords (from leaked lists, via zxcvbn), and a few a Polish showroom would pick.
COMMON = frozenset(FREQUENCY_LISTS["passwords"]) | {"haslo", "haslo123", "hasło123", "sufler", "sufler123", "polska"}


def password_problem(password: str, username: str) -> str | None:
    """Why a new password may not be used (ASVS 2.1: length, not common, not the username), else None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    folded, name = password.casefold(), username.casefold()
    stem = folded.rstrip("0123456789!.")  # "Password2024!" is "password" with digits and a ! after it
    if any(folded[:end] in COMMON for end in range(len(stem), len(folded) + 1)):
        return "This password is one of the most common ones; choose another."
    if (len(name) >= 3 and name in folded) or folded in name:
        return "A password may not contain the username."
    return None


_worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="passwords")


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_worker, _hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(_worker, _verify, password_hash, password)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
