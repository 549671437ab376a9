from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from backend.db import Database
from backend.db.models import AuthToken, Role, User
from backend.domain.accounts.passwords import (
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from backend.domain.audit import add_entry
from backend.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from backend.settings import Settings

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    user: User


class AccountService:
    """Users and login sessions. Tokens are random; only their HMAC (keyed by the server secret) is stored."""

    def __init__(self, db: Database, *, secret_key: str, session_ttl: timedelta) -> None:
        self.db = db
        self._key = secret_key.encode()
        self.session_ttl = session_ttl

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> AccountService:
        return cls(db, secret_key=settings.secret_key(), session_ttl=timedelta(hours=settings.auth.session_ttl_hours))

    def _token_hash(self, token: str) -> bytes:
        return hmac.new(self._key, token.encode(), hashlib.sha256).digest()

    async def create_user(self, username: str, password: str, role: Role) -> User:
        if not USERNAME.match(username):
            raise InvalidInput("A username is 1-64 letters, digits or . _ @ - and starts with a letter or digit.")
        _check_new_password(password, username)
        user = User(
            username=username, password_hash=await hash_password(password), role=role, active=True, language="pl"
        )
        try:
            async with self.db.transaction() as session:
                session.add(user)
        except IntegrityError:
            raise Conflict(f"User {username!r} already exists.") from None
        return user

    async def get_user(self, username: str) -> User | None:
        async with self.db.sessions() as session:
            return await session.scalar(select(User).where(User.username == username))

    async def login(self, username: str, password: str) -> IssuedToken:
        async with self.db.transaction() as session:
            user = await session.scalar(select(User).where(User.username == username))
            # Same message for every failure: do not tell an attacker which usernames exist.
            if not await verify_password(user.password_hash if user else None, password) or user is None:
                raise NotAuthenticated("Wrong username or password.")
            if not user.active:
                raise NotAuthenticated("This account is deactivated.")
            if needs_rehash(user.password_hash):
                user.password_hash = await hash_password(password)
            token = secrets.token_urlsafe(32)
            expires_at = datetime.now(UTC) + self.session_ttl
            session.add(AuthToken(user_id=user.id, token_hash=self._token_hash(token), expires_at=expires_at))
        return IssuedToken(token=token, expires_at=expires_at, user=user)

    async def authenticate(self, token: str) -> User:
        """The active user behind a valid, unexpired, unrevoked token, else :class:`NotAuthenticated`."""
        async with self.db.sessions() as session:
            row = (
                await session.execute(
                    select(User, AuthToken)
                    .join(AuthToken, AuthToken.user_id == User.id)
                    .where(AuthToken.token_hash == self._token_hash(token))
                )
            ).first()
        if row is None:
            raise NotAuthenticated("Your session is not valid; please log in.")
        user, auth_token = row
        if auth_token.revoked_at is not None or auth_token.expires_at <= datetime.now(UTC):
            raise NotAuthenticated("Your session has expired; please log in again.")
        if not user.active:
            raise NotAuthenticated("This account is deactivated.")
        return user

    async def logout(self, token: str) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                update(AuthToken)
                .where(AuthToken.token_hash == self._token_hash(token), AuthToken.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )

    async def set_language(self, user_id: int, language: str) -> User:
        async with self.db.transaction() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotAuthenticated()
            user.language = language
        return user

    async def change_password(self, user_id: int, current: str, new: str, token: str) -> None:
        """The user sets their own password (the current one required); every other login of theirs ends."""
        async with self.db.transaction() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None or not await verify_password(user.password_hash, current):
                raise PermissionDenied("The current password is not right.")
            _check_new_password(new, user.username)
            if await verify_password(user.password_hash, new):
                raise InvalidInput("The new password must differ from the current one.")
            user.password_hash = await hash_password(new)
            user.must_change_password = False
            await _revoke_logins(session, user_id, keep=self._token_hash(token))
            add_entry(session, user_id, "password_changed", user.username)

    async def reset_password(self, user_id: int, actor_id: int, password: str) -> User:
        """An admin gives a user a new password (audited); the user's logins end and they must change it."""
        async with self.db.transaction() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound(f"User {user_id} does not exist.")
            _check_new_password(password, user.username)
            user.password_hash = await hash_password(password)
            user.must_change_password = True
            await _revoke_logins(session, user_id)
            add_entry(session, actor_id, "password_reset", user.username)
        return user

    async def users(self) -> list[User]:
        async with self.db.sessions() as session:
            return list((await session.scalars(select(User).order_by(User.id))).all())

    async def change(self, user_id: int, actor_id: int, role: Role | None, active: bool | None) -> User:
        """An admin changes a user's role or deactivates them; recorded in the audit log. Deactivating revokes
        every login session of the user."""
        async with self.db.transaction() as session:
            user = await session.get(User, user_id, with_for_update=True)
            if user is None:
                raise NotFound(f"User {user_id} does not exist.")
            if user_id == actor_id and (active is False or (role is not None and role is not Role.ADMIN)):
                raise InvalidInput("You cannot demote or deactivate yourself (another admin can).")
            if role is not None and role is not user.role:
                add_entry(session, actor_id, "role_changed", user.username, old=user.role.value, new=role.value)
                user.role = role
            if active is not None and active is not user.active:
                add_entry(session, actor_id, "user_activated" if active else "user_deactivated", user.username)
                user.active = active
                if not active:
                    await _revoke_logins(session, user_id)
        return user


def _check_new_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise InvalidInput(problem)


async def _revoke_logins(session: Any, user_id: int, keep: bytes | None = None) -> None:
    """End the user's login sessions (all, or all but the one whose token hash is ``keep``)."""
    ended = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if keep is not None:
        ended = ended.where(AuthToken.token_hash != keep)
    await session.execute(ended.values(revoked_at=datetime.now(UTC)))
