"""The `kassa` command: serve, accounts."""

from __future__ import annotations

import asyncio
import json
import os
from typing import Optional

import typer

from .config import DEFAULT_DATABASE, Settings
from .services import accounts as account_service
from .store.database import open_database
from .store.migrate import upgrade

app = typer.Typer(help="kassa: a self-hosted, Stripe-compatible payments server built around Amazon Pay.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
accounts_app = typer.Typer(help="Manage accounts and their API keys.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")

DatabaseOption = typer.Option(None, "--database", envvar="KASSA_DATABASE_URL",
                              help=f"Database URL (sqlite:///path or postgresql://…). Default: {DEFAULT_DATABASE}")


def _set_env(name: str, value: str | None) -> None:
    if value:
        os.environ[name] = value


async def _bootstrap(settings: Settings):
    db = open_database(settings.database_url, durable=settings.durable)
    try:
        return await account_service.default_account(db, secret=settings.secret_key,
                                                     publishable=settings.publishable_key)
    finally:
        await db.close()


def _check_pinned(secret: str | None, publishable: str | None) -> None:
    if secret and not secret.startswith("sk_test_"):
        raise typer.BadParameter("the pinned secret key must start with sk_test_", param_hint="--secret-key")
    if publishable and not publishable.startswith("pk_test_"):
        raise typer.BadParameter("the pinned publishable key must start with pk_test_",
                                 param_hint="--publishable-key")


def prepare(database: str | None, secret_key: str | None, publishable_key: str | None) -> Settings:
    """Set the environment for the app, migrate the schema, make sure the default account exists."""
    _check_pinned(secret_key, publishable_key)
    _set_env("KASSA_DATABASE_URL", database)
    _set_env("KASSA_SECRET_KEY", secret_key)
    _set_env("KASSA_PUBLISHABLE_KEY", publishable_key)
    settings = Settings.from_env()
    upgrade(settings.database_url)
    account_id, created = asyncio.run(_bootstrap(settings))
    if created is not None:
        typer.echo(f"Created account {account_id} (test mode keys below; they are shown only now).")
        typer.echo(f"  secret key:      {created.keys['secret_test']}")
        typer.echo(f"  publishable key: {created.keys['publishable_test']}")
    else:
        pinned = " (test keys pinned from the configuration)" if secret_key or publishable_key else ""
        typer.echo(f"Using account {account_id}{pinned}.")
    return settings


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(4242, help="Port to listen on."),
    database: Optional[str] = DatabaseOption,
    secret_key: Optional[str] = typer.Option(None, envvar="KASSA_SECRET_KEY",
                                             help="Pin the default account's test secret key."),
    publishable_key: Optional[str] = typer.Option(None, envvar="KASSA_PUBLISHABLE_KEY",
                                                  help="Pin the default account's test publishable key."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
    proxy_headers: bool = typer.Option(False, "--proxy-headers",
                                       help="Trust X-Forwarded-Proto/For from a proxy on 127.0.0.1."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
) -> None:
    """Run the API server."""
    import uvicorn

    prepare(database, secret_key, publishable_key)
    typer.echo(f"kassa listening on http://{host}:{port}")
    uvicorn.run("kassa.app:create_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http="httptools", access_log=False, log_level=log_level,
                server_header=False, proxy_headers=proxy_headers)


DEMO_SECRET_KEY = "sk_test_kassaDemoSecretKey0000000000000000"
DEMO_PUBLISHABLE_KEY = "pk_test_kassaDemoPublishableKey000000000000"


@app.command()
def demo(
    port: int = typer.Option(4242, help="Port of the kassa API."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Run kassa with fixed demo test keys, printing its URL and keys."""
    import uvicorn

    prepare(database, DEMO_SECRET_KEY, DEMO_PUBLISHABLE_KEY)
    typer.echo(f"kassa API:        http://127.0.0.1:{port}")
    typer.echo(f"secret key:       {DEMO_SECRET_KEY}")
    typer.echo(f"publishable key:  {DEMO_PUBLISHABLE_KEY}")
    uvicorn.run("kassa.app:create_app", factory=True, host="127.0.0.1", port=port, loop="uvloop",
                http="httptools", access_log=False, log_level="warning", server_header=False)


@accounts_app.command("create")
def accounts_create(
    country: str = typer.Option("US", help="Two-letter country code of the account."),
    name: str = typer.Option("kassa merchant", help="The merchant's name, shown to buyers."),
    as_json: bool = typer.Option(False, "--json", help="Print the account and its keys as JSON."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Create an account and print its keys (shown only now)."""
    if len(country) != 2 or not country.isalpha():
        raise typer.BadParameter("a two-letter country code, such as US or DE", param_hint="--country")
    _set_env("KASSA_DATABASE_URL", database)
    settings = Settings.from_env()
    upgrade(settings.database_url)

    async def run():
        db = open_database(settings.database_url, durable=settings.durable)
        try:
            return await account_service.create_account(db, country=country, name=name)
        finally:
            await db.close()

    account = asyncio.run(run())
    if as_json:
        typer.echo(json.dumps({"id": account.id, "country": account.country, **account.keys}))
    else:
        typer.echo(f"Created account {account.id} ({account.country}):")
        for name_, key in account.keys.items():
            typer.echo(f"  {name_.replace('_', ' '):18} {key}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
