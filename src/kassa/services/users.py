"""Dashboard users: Argon2id passwords, sign-in slowed after failures, server-side sessions."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain import sign_in
from ..domain.ids import new_id
from ..store import dashboard_repo as users_repo
from ..store import repo
from ..store.database import Database, Tx, UniqueViolation

ROLES = ("admin", "viewer")
# Argon2id with argon2-cffi's defaults, RFC 9106's second recommended set: 3 passes over 64 MiB,
# 4 lanes. About 180 ms per hash or check on this project's 2-core test machine (docs/benchmarks.md).
HASHER = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)
IDLE_SECONDS = 30 * 60  # a session ends after 30 minutes without a request
MAX_AGE_SECONDS = 12 * 3600  # and 12 hours after sign-in in any case
TOUCH_EVERY_SECONDS = 60  # last_seen is written at most once a minute per session
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class UserError(ValueError):
    """Bad input for a user (shown to the person as it is)."""


class SignInRefused(Exception):
    def __init__(self, message: str, wait: float = 0.0):
        super().__init__(message)
        self.wait = wait


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a session belongs to, with their account."""

    user_id: str
    email: str
    role: str
    account_id: str
    account_name: str
    country: str
    amazon_pay_enabled: bool

    @property
    def admin(self) -> bool:
        return self.role == "admin"


def normalize_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise UserError("Enter an email address such as name@example.com.")
    return email


def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    return hasher.hash(password)


def check_password(stored: str, password: str, hasher: PasswordHasher = HASHER) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = None


def _dummy_hash() -> str:
    """A hash to check against when the email is unknown, so that the answer takes as long."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASH


async def create_user(db: Database, *, email: str, password: str, role: str = "admin",
                      account_id: str | None = None, replace_password: bool = False) -> dict:
    """Create a user of `account_id` (the first account when None). With `replace_password`, an
    existing user of that email gets the new password instead (the demo's login)."""
    email = normalize_email(email)
    if role not in ROLES:
        raise UserError(f"The role must be one of {', '.join(ROLES)}.")
    password_hash = await asyncio.to_thread(hash_password, password)

    async def unit(tx: Tx):
        account = await (repo.get_account(tx, account_id) if account_id else repo.first_account(tx))
        if account is None:
            raise UserError(f"No account {account_id}." if account_id else "There is no account yet.")
        existing = await users_repo.user_by_email(tx, email)
        if existing is not None:
            if not replace_password:
                raise UserError(f"A user with the email {email} exists already.")
            await users_repo.set_password(tx, existing["id"], password_hash)
            return {**dict(existing), "password_hash": None}
        row = {"id": new_id("usr"), "email": email, "account_id": account["id"], "role": role,
               "password_hash": password_hash, "created": int(time.time())}
        await users_repo.insert_user(tx, row)
        return {**row, "password_hash": None}

    try:
        return await db.write(unit)
    except UniqueViolation:
        raise UserError(f"A user with the email {email} exists already.") from None


async def list_users(db: Database, account_id: str | None = None) -> list[dict]:
    async def read(tx: Tx):
        return [dict(row) for row in await users_repo.users(tx, account_id)]

    return await db.read(read)


async def delete_user(db: Database, email: str) -> bool:
    email = (email or "").strip().lower()

    async def unit(tx: Tx):
        return await users_repo.delete_user(tx, email)

    return bool(await db.write(unit))


def _keys(email: str, address: str) -> list[str]:
    return [f"email:{email}"[:300], f"address:{address}"[:300]]


async def sign_in_wait(db: Database, email: str, address: str) -> float:
    """Seconds this email or address must still wait before a sign-in is checked."""
    async def read(tx: Tx):
        return await users_repo.failures(tx, _keys(email, address))

    rows = await db.read(read)
    counts = [(row["key"].split(":", 1)[0], row["failures"], row["last_failed"]) for row in rows]
    return sign_in.wait_seconds(counts, time.time())


async def sign_in_user(db: Database, email: str, password: str, address: str) -> str:
    """Check the password and open a session; returns the session's token (for the cookie only).
    Refuses while earlier failures of the email or the address ask to wait."""
    email = (email or "").strip().lower()[:254]
    wait = await sign_in_wait(db, email, address)
    if wait > 0:
        raise SignInRefused(f"Too many failed sign-ins. Try again in {int(wait) + 1} seconds.", wait)

    async def read(tx: Tx):
        return await users_repo.user_by_email(tx, email)

    user = await db.read(read) if email else None
    good = await asyncio.to_thread(check_password, user["password_hash"] if user else _dummy_hash(), password or "")
    now = time.time()
    keys = _keys(email, address)
    if not (user and good):
        async def failed(tx: Tx):
            for key in keys:
                await users_repo.add_failure(tx, key, now, now - sign_in.FORGET_AFTER_SECONDS)

        await db.write(failed)
        raise SignInRefused("The email or the password is not right.")
    token = secrets.token_urlsafe(32)

    async def opened(tx: Tx):
        await users_repo.clear_failures(tx, keys[0])
        await users_repo.purge_sessions(tx, int(now) - IDLE_SECONDS)
        await users_repo.insert_session(tx, sign_in.token_hash(token), user["id"], int(now))

    await db.write(opened)
    return token


async def session_user(db: Database, token: str | None) -> SignedIn | None:
    """The user of a session token, or None when it is unknown or expired (idle or too old)."""
    if not token or len(token) > 100:
        return None
    hashed = sign_in.token_hash(token)

    async def read(tx: Tx):
        return await users_repo.session_and_user(tx, hashed)

    row = await db.read(read)
    now = int(time.time())
    if row is None:
        return None
    if now - row["last_seen"] > IDLE_SECONDS or now - row["session_created"] > MAX_AGE_SECONDS:
        await sign_out(db, token)
        return None
    if now - row["last_seen"] >= TOUCH_EVERY_SECONDS:
        async def touch(tx: Tx):
            await users_repo.touch_session(tx, hashed, now)

        await db.write(touch)
    return SignedIn(row["id"], row["email"], row["role"], row["account_id"], row["account_name"], row["country"],
                    bool(row["amazon_pay_enabled"]))


async def sign_out(db: Database, token: str) -> None:
    async def unit(tx: Tx):
        await users_repo.delete_session(tx, sign_in.token_hash(token))

    await db.write(unit)
