"""Dashboard sign-in rules: Argon2id password hashing, CSRF tokens, and the slowing of sign-ins
after failures (the pure rule, and the stored counts on SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from argon2 import PasswordHasher

from kassa.domain import sign_in
from kassa.services import accounts, users
from kassa.store.database import open_database
from kassa.store.migrate import upgrade
from support import fresh_postgres_url, require_postgres

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_passwords_are_argon2id_salted_and_checked():
    first, second = users.hash_password("correct horse battery", FAST), users.hash_password("correct horse battery", FAST)
    assert first.startswith("$argon2id$") and first != second  # a salt of its own each time
    assert users.check_password(first, "correct horse battery", FAST)
    assert not users.check_password(first, "correct horse batterY", FAST)
    assert not users.check_password("not a hash", "anything", FAST)


def test_the_default_cost_is_the_measured_one():
    stored = users.hash_password("correct horse battery")
    assert "$m=65536,t=3,p=4$" in stored


def test_short_passwords_and_bad_emails_are_refused():
    with pytest.raises(users.UserError):
        users.hash_password("short", FAST)
    with pytest.raises(users.UserError):
        users.normalize_email("not-an-email")
    assert users.normalize_email("  Ada@Example.COM ") == "ada@example.com"


def test_csrf_tokens_belong_to_their_session():
    token, other = "session-token-one", "session-token-two"
    assert sign_in.csrf_valid(token, sign_in.csrf_token(token))
    assert not sign_in.csrf_valid(token, sign_in.csrf_token(other))
    assert not sign_in.csrf_valid(token, None) and not sign_in.csrf_valid(token, "")
    assert sign_in.csrf_token(token) != token and token not in sign_in.csrf_token(token)


def test_session_tokens_are_stored_as_their_digest():
    assert sign_in.token_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_failures_slow_down_with_a_free_few_and_a_cap():
    free = sign_in.FREE_FAILURES["email"]
    assert [sign_in.delay_after(n, free) for n in range(free)] == [0.0] * free
    assert sign_in.delay_after(free, free) == 5.0 and sign_in.delay_after(free + 1, free) == 10.0
    assert sign_in.delay_after(free + 30, free) == sign_in.MAX_DELAY_SECONDS
    now = 1_000_000.0
    assert sign_in.wait_seconds([("email", free, now - 1)], now) == pytest.approx(4.0)
    assert sign_in.wait_seconds([("email", free, now - 10)], now) == 0.0
    # An address may fail more often than one email before it is slowed.
    assert sign_in.wait_seconds([("address", free, now)], now) == 0.0
    assert sign_in.wait_seconds([("address", sign_in.FREE_FAILURES["address"], now)], now) == 5.0
    # Old failures are forgotten.
    assert sign_in.wait_seconds([("email", 50, now - sign_in.FORGET_AFTER_SECONDS - 1)], now) == 0.0


def _sign_ins(url: str) -> list:
    """Three wrong passwords, then the right one (refused: wait), then another address's try."""
    upgrade(url)

    async def run():
        db = open_database(url)
        try:
            await accounts.default_account(db)
            await users.create_user(db, email="ada@example.com", password="the right password")
            outcomes = []
            for password in ("wrong 1 wrong", "wrong 2 wrong", "wrong 3 wrong", "the right password"):
                try:
                    await users.sign_in_user(db, "ada@example.com", password, "10.0.0.1")
                    outcomes.append("ok")
                except users.SignInRefused as refused:
                    outcomes.append("wait" if refused.wait else "wrong")
            # The email's count holds from another address too.
            try:
                await users.sign_in_user(db, "ADA@example.com", "the right password", "10.0.0.2")
                outcomes.append("ok")
            except users.SignInRefused as refused:
                outcomes.append("wait" if refused.wait else "wrong")
            token = None
            try:  # another user from the first address is not slowed (3 < the address's 10)
                await users.create_user(db, email="bob@example.com", password="bob's password!")
                token = await users.sign_in_user(db, "bob@example.com", "bob's password!", "10.0.0.1")
            finally:
                outcomes.append("ok" if token and await users.session_user(db, token) else "refused")
            return outcomes
        finally:
            await db.close()

    return asyncio.run(run())


def test_sign_in_slows_down_per_email_on_sqlite(tmp_path):
    assert _sign_ins(f"sqlite:///{tmp_path / 'k.sqlite3'}") == ["wrong", "wrong", "wrong", "wait", "wait", "ok"]


def test_sign_in_slows_down_per_email_on_postgresql():
    require_postgres()
    assert _sign_ins(fresh_postgres_url()) == ["wrong", "wrong", "wrong", "wait", "wait", "ok"]
