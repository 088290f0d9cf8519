"""The `kassa` command: serve, demo, accounts."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from .config import DEFAULT_DATABASE, Settings
from .services import accounts as account_service
from .services import client_secrets
from .store.database import open_database, unsupported
from .wire import rate_limit
from .store.migrate import upgrade

app = typer.Typer(help="kassa: a self-hosted, Stripe-compatible payments server built around Amazon Pay.",
                  no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)
accounts_app = typer.Typer(help="Manage accounts and their API keys.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
events_app = typer.Typer(help="Events and their webhook deliveries.", no_args_is_help=True)
app.add_typer(events_app, name="events")
users_app = typer.Typer(help="Dashboard users (sign-in at /dashboard/login).", no_args_is_help=True)
app.add_typer(users_app, name="users")

DatabaseOption = typer.Option(None, "--database", envvar="KASSA_DATABASE_URL",
                              help=f"Database URL (sqlite:///path or postgresql://…). Default: {DEFAULT_DATABASE}")


def _set_env(name: str, value: str | None) -> None:
    if value:
        os.environ[name] = value


def _shown(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"


def _migrate(url: str) -> None:
    """Migrate, or stop with one line saying why the database cannot be used (never a traceback)."""
    if unsupported(url):
        typer.echo(f"kassa: {unsupported(url)}", err=True)
        raise typer.Exit(1)
    try:
        upgrade(url)
    except ModuleNotFoundError as error:
        typer.echo(f"kassa: the database driver {error.name} is missing: pip install -e . installs it", err=True)
        raise typer.Exit(1) from None
    except Exception as error:  # noqa: BLE001 - every reason a database cannot be reached
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        typer.echo(f"kassa: cannot use the database {_shown(url)}: {reason}", err=True)
        raise typer.Exit(1) from None


def with_database(database: str | None, job):
    """Migrate the database, then run ``await job(db)`` on it and close it; returns the result."""
    _set_env("KASSA_DATABASE_URL", database)
    settings = Settings.from_env()
    _migrate(settings.database_url)

    async def run():
        db = open_database(settings.database_url, durable=settings.durable)
        try:
            return await job(db)
        finally:
            await db.close()

    return asyncio.run(run())


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
    try:
        settings = Settings.from_env()
        rate_limit.from_setting(settings.rate_limit)
        client_secrets.keys_from(os.environ)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    account_id, created = with_database(None, lambda db: account_service.default_account(
        db, secret=settings.secret_key, publishable=settings.publishable_key))
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
                                       help="Trust X-Forwarded-Proto/For from the proxies of --forwarded-allow-ips."),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1", "--forwarded-allow-ips", envvar="KASSA_FORWARDED_ALLOW_IPS",
        help="Addresses (comma-separated, or *) of the proxies or load balancers whose X-Forwarded-* "
             "headers are trusted with --proxy-headers."),
    log_level: str = typer.Option("warning", help="uvicorn log level."),
    access_log: bool = typer.Option(False, "--access-log", envvar="KASSA_ACCESS_LOG",
                                    help="One JSON line per API request on standard output."),
    tls_cert: Optional[Path] = typer.Option(None, "--tls-cert", envvar="KASSA_TLS_CERT",
                                            help="Serve HTTPS with this certificate (PEM; with --tls-key)."),
    tls_key: Optional[Path] = typer.Option(None, "--tls-key", envvar="KASSA_TLS_KEY",
                                           help="The certificate's private key (PEM, unencrypted; with --tls-cert)."),
) -> None:
    """Run the API server."""
    import uvicorn

    from .wire.transport import JoinedWritesProtocol  # uvicorn's protocol: loaded by serve only

    tls = _tls_options(tls_cert, tls_key)
    if access_log:
        os.environ["KASSA_ACCESS_LOG"] = "1"
    prepare(database, secret_key, publishable_key)
    scheme = "https" if tls else "http"
    typer.echo(f"kassa listening on {scheme}://{host}:{port}")
    uvicorn.run("kassa.app:create_app", factory=True, host=host, port=port, workers=workers,
                loop="uvloop", http=JoinedWritesProtocol, access_log=False, log_level=log_level,
                server_header=False, proxy_headers=proxy_headers, forwarded_allow_ips=forwarded_allow_ips, **tls)


def _tls_options(cert: Path | None, key: Path | None) -> dict[str, str]:
    """uvicorn's ssl_certfile/ssl_keyfile, once both files are readable and belong together."""
    if cert is None and key is None:
        return {}
    if cert is None or key is None:
        missing = "--tls-cert" if cert is None else "--tls-key"
        raise typer.BadParameter("missing: HTTPS needs both --tls-cert and --tls-key", param_hint=missing)
    _check_readable(cert, "--tls-cert")
    _check_readable(key, "--tls-key")
    _check_key_pair(cert, key)
    return {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}


def _check_readable(path: Path, option: str) -> None:
    """A BadParameter unless `path` is a file this process can read."""
    try:
        with open(path, "rb"):
            pass
    except FileNotFoundError:
        raise typer.BadParameter(f"{path} does not exist", param_hint=option) from None
    except IsADirectoryError:
        raise typer.BadParameter(f"{path} is a directory, not a file", param_hint=option) from None
    except OSError as error:
        raise typer.BadParameter(f"cannot read {path}: {error.strerror}", param_hint=option) from None


def _check_key_pair(cert: Path, key: Path) -> None:
    """A BadParameter unless `cert` holds a PEM certificate and `key` its unencrypted private key."""
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        certificate = x509.load_pem_x509_certificates(cert.read_bytes())[0]
    except ValueError:
        raise typer.BadParameter(f"{cert} holds no PEM certificate", param_hint="--tls-cert") from None
    try:
        private_key = load_pem_private_key(key.read_bytes(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise typer.BadParameter(f"{key} holds no unencrypted PEM private key", param_hint="--tls-key") from None
    if private_key.public_key() != certificate.public_key():
        raise typer.BadParameter(f"{key} is not the private key of {cert}", param_hint="--tls-key")


DEMO_SECRET_KEY = "sk_test_kassaDemoSecretKey0000000000000000"
DEMO_PUBLISHABLE_KEY = "pk_test_kassaDemoPublishableKey000000000000"


SHOP_APP = Path(__file__).resolve().parents[2] / "examples" / "shop" / "app.py"


class DemoError(Exception):
    """Why the demo could not start or stopped."""


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _wait_until_answering(processes: dict[str, subprocess.Popen], health: dict[str, str], timeout: float = 60) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    waiting = dict(health)
    while waiting:
        for name, process in processes.items():
            if process.poll() is not None:
                raise DemoError(f"{name} exited (status {process.returncode}) before it answered")
        for name, url in list(waiting.items()):
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    del waiting[name]
            except httpx.HTTPError:
                pass
        if waiting and time.monotonic() > deadline:
            raise DemoError(f"{', '.join(waiting)} did not answer within {timeout:.0f} s")
        time.sleep(0.1)


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    for process in processes.values():
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def demo(
    port: int = typer.Option(4242, help="Port of the kassa API."),
    shop_port: int = typer.Option(4243, help="Port of the demo shop."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Run kassa (fixed demo test keys) and the demo shop (examples/shop/) together; Ctrl-C stops both."""
    if not SHOP_APP.is_file():
        typer.echo(f"kassa demo: the demo shop is not at {SHOP_APP}. `kassa demo` runs from a clone of the "
                   "kassa repository, installed with `pip install -e .` (or `make demo`).", err=True)
        raise typer.Exit(2)
    if importlib.util.find_spec("stripe") is None:
        typer.echo("kassa demo: the demo shop needs the stripe package: pip install -e '.[test]'", err=True)
        raise typer.Exit(2)
    for option, number in (("--port", port), ("--shop-port", shop_port)):
        if not _port_free(number):
            raise typer.BadParameter(f"port {number} on 127.0.0.1 is in use; choose another", param_hint=option)
    kassa_url, shop_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{shop_port}"
    env = {**os.environ, "KASSA_URL": kassa_url, "STRIPE_SECRET_KEY": DEMO_SECRET_KEY,
           "STRIPE_PUBLISHABLE_KEY": DEMO_PUBLISHABLE_KEY}
    if database:
        env["KASSA_DATABASE_URL"] = database
    signal.signal(signal.SIGTERM, _sigterm)
    processes: dict[str, subprocess.Popen] = {}
    try:
        processes["kassa"] = subprocess.Popen(
            [sys.executable, "-m", "kassa.cli", "serve", "--port", str(port), "--secret-key", DEMO_SECRET_KEY,
             "--publishable-key", DEMO_PUBLISHABLE_KEY], env=env, stdout=subprocess.DEVNULL)
        _wait_until_answering(processes, {"kassa": f"{kassa_url}/healthz"})  # the shop's first buyer needs it
        env["STRIPE_WEBHOOK_SECRET"] = _demo_webhook(kassa_url, shop_url)
        processes["shop"] = subprocess.Popen([sys.executable, str(SHOP_APP), "--port", str(shop_port)], env=env,
                                             stdout=subprocess.DEVNULL)
        _wait_until_answering(processes, {"shop": f"{shop_url}/healthz"})
        demo_password = _demo_user(database)
        typer.echo(f"Demo shop:        {shop_url}   <- open this, then press Pay now\n"
                   f"kassa API:        {kassa_url}\n"
                   f"secret key:       {DEMO_SECRET_KEY}\n"
                   f"publishable key:  {DEMO_PUBLISHABLE_KEY}\n"
                   f"Dashboard:        {kassa_url}/dashboard/login\n"
                   f"  email:          {DEMO_USER_EMAIL}\n"
                   f"  password:       {demo_password}\n"
                   "Press Ctrl-C to stop both.", color=False)
        while all(process.poll() is None for process in processes.values()):
            time.sleep(0.3)
        name = next(name for name, process in processes.items() if process.poll() is not None)
        raise DemoError(f"{name} stopped (status {processes[name].returncode})")
    except KeyboardInterrupt:
        typer.echo("Stopping kassa and the demo shop.")
    except DemoError as error:
        typer.echo(f"kassa demo: {error}; stopping.", err=True)
        raise typer.Exit(1) from None
    finally:
        _stop(processes)


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
    account = with_database(database, lambda db: account_service.create_account(db, country=country, name=name))
    if as_json:
        typer.echo(json.dumps({"id": account.id, "country": account.country, **account.keys}))
    else:
        typer.echo(f"Created account {account.id} ({account.country}):")
        for name_, key in account.keys.items():
            typer.echo(f"  {name_.replace('_', ' '):18} {key}")


@accounts_app.command("roll-key")
def accounts_roll_key(
    account_id: str = typer.Argument(..., help="The account (acct_…)."),
    mode: str = typer.Option(..., "--mode", help="test or live."),
    kind: str = typer.Option(..., "--kind", help="secret or publishable."),
    expire_old_in: int = typer.Option(0, "--expire-old-in", min=0,
                                      help="Seconds the old key keeps working (0: it stops now)."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Issue a new key and print it (shown only now); the old one stops working at once or after
    the grace period, in every running kassa process within seconds."""
    if mode not in ("test", "live"):
        raise typer.BadParameter("test or live", param_hint="--mode")
    if kind not in ("secret", "publishable"):
        raise typer.BadParameter("secret or publishable", param_hint="--kind")
    try:
        key = with_database(database, lambda db: account_service.roll_key(
            db, account_id, livemode=mode == "live", kind=kind, expire_old_in=expire_old_in))
    except KeyError:
        typer.echo(f"kassa: no account {account_id}", err=True)
        raise typer.Exit(1) from None
    typer.echo(key)


@accounts_app.command("keys")
def accounts_keys(
    account_id: str = typer.Argument(..., help="The account (acct_…)."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """List the account's keys: prefix and last four, created, expires, last used."""
    try:
        found = with_database(database, lambda db: account_service.list_keys(db, account_id))
    except KeyError:
        typer.echo(f"kassa: no account {account_id}", err=True)
        raise typer.Exit(1) from None

    def when(stamp) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(stamp)) if stamp else "-"

    typer.echo(f"{'key':22} {'mode':5} {'kind':12} {'created (UTC)':20} {'expires (UTC)':20} last used (UTC)")
    for row in found:
        typer.echo(f"{row['redacted']:22} {'live' if row['livemode'] else 'test':5} {row['kind']:12} "
                   f"{when(row['created']):20} {when(row['expires_at']):20} {when(row['last_used'])}")


@accounts_app.command("configure-amazon-pay")
def accounts_configure_amazon_pay(
    account_id: str = typer.Argument(..., help="The account (acct_…)."),
    public_key_id: str = typer.Option(..., "--public-key-id", help="Amazon Pay public key id."),
    private_key: Path = typer.Option(..., "--private-key", help="The PEM file of the matching private key."),
    store_private_key: bool = typer.Option(
        False, "--store-private-key",
        help="Keep the key in the database, encrypted with KASSA_ENCRYPTION_KEY, instead of its file path."),
    store_id: str = typer.Option(..., "--store-id", help="Amazon Pay store id (the Login with Amazon client id)."),
    merchant_id: str = typer.Option(..., "--merchant-id", help="Amazon Pay merchant id."),
    region: str = typer.Option("na", "--region", help="na, eu or jp (us, de, uk and fr are accepted)."),
    sandbox: bool = typer.Option(True, "--sandbox/--production",
                                 help="Amazon Pay's sandbox (the default) or real payments."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Set up live mode payments through Amazon Pay for an account (replaces an earlier setup)."""
    from .methods.amazon_pay.config import ConfigError, LiveConfig
    from .services.connectors import configure

    try:
        if store_private_key:
            pem = private_key.expanduser().read_text("ascii")
            config = LiveConfig(public_key_id=public_key_id, store_id=store_id, merchant_id=merchant_id,
                                region=region, sandbox=sandbox, private_key_pem=pem)
        else:
            config = LiveConfig(public_key_id=public_key_id, store_id=store_id, merchant_id=merchant_id,
                                region=region, sandbox=sandbox, private_key_path=str(private_key.expanduser().resolve()))
        with_database(database, lambda db: configure(db, account_id, config))
    except (OSError, UnicodeError) as error:
        raise typer.BadParameter(f"cannot read {private_key}: {getattr(error, 'strerror', None) or error}",
                                 param_hint="--private-key") from None
    except ConfigError as error:
        typer.echo(f"Error: {error}", err=True)
        raise typer.Exit(2) from None
    except KeyError:
        typer.echo(f"Error: no account {account_id}", err=True)
        raise typer.Exit(2) from None
    where = "stored encrypted" if store_private_key else f"read from {config.private_key_path}"
    typer.echo(f"Amazon Pay live mode set up for {account_id}: merchant {merchant_id}, region {config.region}, "
               f"{'sandbox' if sandbox else 'production'}; private key {where}.")


@events_app.command("resend")
def events_resend(
    event_id: str = typer.Argument(..., help="The event to send again (evt_…)."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="Only to this endpoint (we_…)."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Queue an event again for delivery; a running kassa delivers it within a second."""
    from .domain.errors import KassaError
    from .services.events import resend

    try:
        deliveries = with_database(database, lambda db: resend(db, event_id, endpoint))
    except KassaError as error:
        typer.echo(f"error: {error.message}", err=True)
        raise typer.Exit(1) from None
    if not deliveries:
        typer.echo(f"{event_id}: no enabled endpoint wants this event; nothing queued.")
    for delivery in deliveries:
        typer.echo(f"{event_id}: queued as {delivery}")


DEMO_USER_EMAIL = "demo@kassa.test"


def _demo_webhook(kassa_url: str, shop_url: str) -> str:
    """The shop's webhook endpoint (its /webhook, every event), made anew each run; its secret."""
    import stripe

    client = stripe.StripeClient(DEMO_SECRET_KEY, base_addresses={"api": kassa_url}, max_network_retries=2)
    url = f"{shop_url}/webhook"
    for endpoint in client.v1.webhook_endpoints.list(params={"limit": 100}).data:
        if endpoint.url == url:
            client.v1.webhook_endpoints.delete(endpoint.id)
    created = client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": ["*"],
                                                         "description": "The demo shop"})
    return created.secret


def _demo_user(database: str | None) -> str:
    """The demo's Dashboard admin, with a new random password each run (printed, never stored)."""
    import secrets

    from .services import users

    password = secrets.token_urlsafe(12)
    with_database(database, lambda db: users.create_user(db, email=DEMO_USER_EMAIL, password=password,
                                                          role="admin", replace_password=True))
    return password


@users_app.command("create")
def users_create(
    email: str = typer.Option(..., "--email", help="The user's email (their sign-in name)."),
    account: Optional[str] = typer.Option(None, "--account", help="The account (acct_…); the first one if not given."),
    role: str = typer.Option("admin", "--role", help="admin (may change things) or viewer (sees, changes nothing)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Create a Dashboard user (password hashed with Argon2id)."""
    from .services import users

    if not password_stdin:
        raise typer.BadParameter("pass the password on standard input with --password-stdin",
                                 param_hint="--password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = with_database(database, lambda db: users.create_user(db, email=email, password=password, role=role,
                                                                     account_id=account))
    except users.UserError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"Created {user['role']} {user['email']} ({user['id']}) for {user['account_id']}.")


@users_app.command("list")
def users_list(
    account: Optional[str] = typer.Option(None, "--account", help="Only this account's users."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """List Dashboard users."""
    from .services import users

    for user in with_database(database, lambda db: users.list_users(db, account)):
        typer.echo(f"{user['email']:40} {user['role']:7} {user['account_id']}  {user['id']}")


@users_app.command("delete")
def users_delete(
    email: str = typer.Argument(..., help="The user's email."),
    database: Optional[str] = DatabaseOption,
) -> None:
    """Delete a Dashboard user and end their sessions."""
    from .services import users

    if not with_database(database, lambda db: users.delete_user(db, email)):
        typer.echo(f"error: no user {email}", err=True)
        raise typer.Exit(1)
    typer.echo(f"Deleted {email.strip().lower()}.")


@app.command()
def listen(
    forward_to: Optional[str] = typer.Option(None, "--forward-to", "-f", help="Local URL to POST each event to."),
    events: Optional[str] = typer.Option(None, "--events", "-e", help="Comma-separated event types (* allowed)."),
    api_key: Optional[str] = typer.Option(None, "--api-key", envvar="KASSA_SECRET_KEY",
                                          help="A secret key of the account to follow."),
    api_base: str = typer.Option("http://127.0.0.1:4242", "--api-base", envvar="KASSA_API_BASE",
                                 help="Where kassa runs."),
    secret: Optional[str] = typer.Option(None, "--secret", help="Signing secret to use (whsec_…)."),
) -> None:
    """Print events as they happen and forward them, signed, to a local URL."""
    from .listen import Listener

    if not api_key:
        raise typer.BadParameter("give --api-key or set KASSA_SECRET_KEY", param_hint="--api-key")
    types = [name.strip() for name in events.split(",") if name.strip()] if events else None
    listener = Listener(api_base, api_key, forward_to, types=types, secret=secret,
                        echo=lambda line: typer.echo(line))
    try:
        listener.run()
    except KeyboardInterrupt:
        pass


def main() -> None:
    app()


if __name__ == "__main__":
    main()
