"""The ``sufler`` command."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import signal
import sys
from pathlib import Path

from backend.settings import SettingsError, load_settings


def _password_from_user() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Repeat password: ") != first:
        raise SystemExit("The passwords do not match.")
    return first


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def cmd_up(args: argparse.Namespace) -> int:
    """The embedded default: database, migrations, first admin, backend; Ctrl-C stops all of it."""
    from backend import runtime
    from backend.domain.copilot.build import build_engine

    settings = load_settings()
    # SIGTERM (a service manager, `kill`) stops everything as Ctrl-C does, so the database and the cockpit
    # are not left running; uvicorn installs its own handlers while it serves.
    signal.signal(signal.SIGTERM, _interrupt)
    sock = runtime.bind_socket(settings.server.host, settings.server.port)
    with runtime.database_url(settings) as url:
        runtime.migrate(url)
        first = asyncio.run(runtime.ensure_first_admin(settings, url))
        host, port = sock.getsockname()[:2]
        base = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}"
        with runtime.cockpit(settings, base.replace("localhost", "127.0.0.1")) as ui:
            built = build_engine(settings)  # while the cockpit builds
            if ui is not None:
                print("Starting the cockpit (the first time builds it, which takes a minute) ...", flush=True)
                ui.wait_ready()
            print("\nSufler is up.")
            if ui is not None:
                print(f"  cockpit   {ui.url}   <- open this")
            print(f"  backend   {base}\n  health    {base}/health\n  API docs  {base}/schema/swagger")
            if first.password:
                print(
                    f"  log in as {first.username!r} with password {first.password!r}"
                    f"  (stored in {settings.data_dir / 'first-login.txt'})"
                )
            print("Press Ctrl-C to stop.\n", flush=True)
            runtime.serve(settings, url, sock, built)
    print("Sufler stopped.", flush=True)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Only the backend, on the configured database (for compose and replicas; migrations run separately)."""
    from backend import runtime

    settings = load_settings()
    sock = runtime.bind_socket(settings.server.host, settings.server.port)
    with runtime.database_url(settings) as url:
        runtime.serve(settings, url, sock)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from backend import runtime

    settings = load_settings()
    with runtime.database_url(settings) as url:
        runtime.migrate(url)
    print("Database is at the newest schema.")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from backend import runtime
    from backend.backup import backup

    settings = load_settings()
    with runtime.database_url(settings) as url:
        tool = backup(url, Path(args.file))
    print(f"Backed up the database to {args.file} (pg_dump {tool.major}, custom format).")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from backend import runtime
    from backend.backup import restore
    from backend.data_keys import MissingDataKeys

    settings = load_settings()
    with runtime.database_url(settings) as url:
        restore(url, Path(args.file), force=args.force)
        try:
            runtime.check_data_keys(settings, url)
        except MissingDataKeys as exc:
            print(
                f"Restored {args.file}, but its contact data is unreadable here.\nerror: {exc.message}", file=sys.stderr
            )
            return 1
    # The vector store is not in the backup: the engine rebuilds it from the knowledge pack when it starts.
    print(f"Restored {args.file}. A backup from an older Sufler is brought up to date by `sufler migrate`.")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from backend import runtime
    from backend.db.models import Role

    settings = load_settings()
    password = _password_from_user()

    async def add(url: str) -> None:
        async with runtime.account_service(settings, url) as accounts:
            await accounts.create_user(args.name, password, Role(args.role))

    with runtime.database_url(settings) as url:
        runtime.migrate(url)
        asyncio.run(add(url))
    print(f"User {args.name!r} ({args.role}) created.")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Observations (JSON Lines) through the engine as one in-memory session; JSON Lines out, logs to stderr."""
    from backend.domain.copilot.build import build_engine
    from backend.domain.copilot.replay import ReplayError, replay
    from backend.logs import configure_logging

    settings = load_settings()
    configure_logging(settings.log)  # to stderr: stdout carries the JSON lines only (unconfigured, it is stdout)
    with open(args.file, encoding="utf-8") if args.file != "-" else sys.stdin as source:
        lines = source.readlines()
    built = build_engine(settings, in_memory=True)

    async def run() -> None:
        try:
            await replay(built.copilot, lines, use_llm=not args.no_llm)
        finally:
            await built.aclose()

    try:
        asyncio.run(run())
    except ReplayError as exc:
        print(f"error: {args.file}: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_rotate_data_key(args: argparse.Namespace) -> int:
    """Re-encrypt stored contacts under the current (first) data key; see backend/crypto.py."""
    from backend import runtime
    from backend.data_keys import rotate
    from backend.db import Database

    settings = load_settings()
    cipher = settings.data_cipher()

    async def run(url: str) -> None:
        db = Database(url)
        try:
            done = await rotate(db, cipher)
        finally:
            await db.close()
        print(
            f"Re-encrypted under key {cipher.current!r}: {done.clients} client files, {done.leads} leads, "
            f"{done.conversations} bot conversations, {done.texts} texts with contacts in them."
        )

    with runtime.database_url(settings) as url:
        asyncio.run(run(url))
    return 0


def cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    """Point Telegram at this backend's webhook, with the configured secret."""
    from backend.adapters.telegram import TelegramClient, TelegramError

    settings = load_settings()
    tg = settings.telegram
    if tg.bot_token is None or tg.webhook_secret is None:
        print("set SUFLER_TELEGRAM_BOT_TOKEN and SUFLER_TELEGRAM_WEBHOOK_SECRET first", file=sys.stderr)
        return 2
    url = args.public_url.rstrip("/") + "/bots/telegram/webhook"

    async def run() -> None:
        client = TelegramClient(tg.api_base, tg.bot_token.get_secret_value())  # type: ignore[union-attr]
        try:
            await client.set_webhook(url, tg.webhook_secret.get_secret_value())  # type: ignore[union-attr]
        finally:
            await client.close()

    try:
        asyncio.run(run())
    except TelegramError as exc:
        print(f"error: Telegram refused: {exc}", file=sys.stderr)
        return 1
    print(f"Telegram now sends updates to {url}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sufler", description="Sufler, the real-time sales co-pilot.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="run everything on this machine (embedded default)").set_defaults(func=cmd_up)
    commands.add_parser("serve", help="run the backend only").set_defaults(func=cmd_serve)
    commands.add_parser("migrate", help="upgrade the database schema").set_defaults(func=cmd_migrate)
    commands.add_parser(
        "rotate-data-key", help="re-encrypt stored contact data under the current (first) SUFLER_DATA_KEYS key"
    ).set_defaults(func=cmd_rotate_data_key)
    backup = commands.add_parser("backup", help="dump the database into a file (pg_dump custom format)")
    backup.add_argument("file", help="where to write the backup, e.g. sufler-2025-01-31.dump")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into the configured (empty) database")
    restore.add_argument("file", help="a file written by `sufler backup`")
    restore.add_argument(
        "--force", action="store_true", help="restore into a database that has data: the backup's tables replace it"
    )
    restore.set_defaults(func=cmd_restore)
    replay = commands.add_parser("replay", help="run JSON Lines observations through the engine, print JSON Lines")
    replay.add_argument("file", help='JSON Lines file, one {"observation": "..."} per line ("-" for stdin)')
    replay.add_argument("--no-llm", action="store_true", help="fast path and playbook moves only")
    replay.set_defaults(func=cmd_replay)
    telegram = commands.add_parser("telegram", help="the Telegram bot").add_subparsers(
        dest="telegram_command", required=True
    )
    hook = telegram.add_parser("set-webhook", help="register this backend's webhook with Telegram")
    hook.add_argument("public_url", help="the backend's public base URL, e.g. https://sufler.example.com")
    hook.set_defaults(func=cmd_telegram_set_webhook)
    user = commands.add_parser("user", help="manage accounts").add_subparsers(dest="user_command", required=True)
    add = user.add_parser("add", help="add an account (password from stdin or a prompt)")
    add.add_argument("name")
    add.add_argument("--role", choices=["salesperson", "lead", "admin"], default="salesperson")
    add.set_defaults(func=cmd_user_add)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from backend.domain.engine.rules import RuleError
    from backend.domain.pack.pack import PackError
    from backend.errors import SuflerError

    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (PackError, RuleError) as exc:
        print(f"invalid domain pack: {exc.path}:\n  " + "\n  ".join(exc.problems), file=sys.stderr)
        return 2
    except SuflerError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
