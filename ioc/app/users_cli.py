"""``ioc users add|list|passwd|remove`` and ``ioc token``: user management from a shell.

``passwd`` and ``remove`` end every session of the user (every ``ioc serve`` node using the same
store refuses the old tokens and closes their websockets within a second); ``ioc token`` opens a
session without an idle limit (for scripts), ended like any other. Sessions live in the store
(SQLite under the data dir, or ``IOC_DATABASE_URL``), so these commands act on every node.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime, timedelta

from ioc.api.auth import (
    USERNAME_RULE,
    Role,
    agency_error,
    generate_password,
    hash_password,
    issue_token,
    load_or_create_secret,
    valid_username,
)
from ioc.api.sessions import SessionStore
from ioc.app.settings_check import SettingsError, checked_settings
from ioc.settings import Settings
from ioc.store import StoreError, open_store
from ioc.store.base import Store
from ioc.store.sessions import SessionKind

MIN_PASSWORD = 8
MAX_TOKEN_MINUTES = 10 * 366 * 24 * 60
"""Ten years: longer lifetimes are refused (and past year 9999 they cannot even be written)."""


class CliError(Exception):
    """A one-line message for the user and the exit status it ends with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _settings(args: argparse.Namespace) -> Settings:
    """The settings; raises ``CliError`` naming each bad setting (no pydantic traceback)."""
    data_dir = getattr(args, "data_dir", None)
    try:
        return checked_settings(data_dir=data_dir) if data_dir is not None else checked_settings()
    except SettingsError as exc:
        raise CliError("; ".join(exc.lines), code=2) from None


def _require_store(settings: Settings) -> None:
    """Only ``users add`` may create the SQLite store; elsewhere a missing one is a typo'd path."""
    if settings.database_url is None:
        path = settings.data_dir / "ioc.db"
        if not path.is_file():
            raise CliError(
                f"no user store at {path}: check --data-dir / IOC_DATA_DIR, "
                "or start `ioc serve` (or `ioc users add`) there first"
            )


def _open(settings: Settings, *, must_exist: bool) -> Store:
    """The user store; ``CliError`` when it is missing (exit 1) or cannot be opened (exit 2)."""
    if must_exist:
        _require_store(settings)
    try:
        return open_store(settings)
    except StoreError as exc:
        raise CliError(str(exc), code=2) from None


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """(password, generated). Given → used; a terminal → prompted twice; otherwise generated."""
    if args.password is not None:
        if len(args.password) < MIN_PASSWORD:
            raise CliError(f"--password: at least {MIN_PASSWORD} characters")
        return args.password, False
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if len(first) < MIN_PASSWORD:
            raise CliError(f"password: at least {MIN_PASSWORD} characters")
        if getpass.getpass("Again: ") != first:
            raise CliError("passwords differ")
        return first, False
    return generate_password(), True


def _need_username(args: argparse.Namespace) -> str:
    if not args.username:
        raise CliError(f"users {args.action}: a username is required")
    if args.action == "add" and not valid_username(args.username):
        raise CliError(f"username {args.username!r}: expected {USERNAME_RULE}")
    return str(args.username)


def _end_sessions(store: Store, settings: Settings, username: str) -> None:
    count = SessionStore.open_for(store, settings.data_dir).revoke_user(username)
    if count:
        print(f"ended {count} session{'s' if count != 1 else ''} of {username}")


def _run(store: Store, args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "list":
        for user in store.list_users():
            created = user.created_at.isoformat(timespec="seconds")
            print(f"{user.username}\t{user.role}\t{created}" + (f"\t{user.agency}" if user.agency else ""))
        return
    name = _need_username(args)
    if args.action == "remove":
        store.remove_user(name)
        print(f"removed {name}")
        _end_sessions(store, settings, name)
        return
    if args.action == "add":
        problem = agency_error(Role(args.role), getattr(args, "agency", None))
        if problem is not None:
            raise CliError(f"--{problem}")
    password, generated = _password(args)
    if args.action == "add":
        agency = getattr(args, "agency", None)
        store.add_user(name, Role(args.role).value, hash_password(password), datetime.now(UTC), agency)
        print(f"added {name} ({args.role}{', ' + agency if agency else ''})")
    else:
        store.set_password(name, hash_password(password))
        print(f"changed the password of {name}")
        _end_sessions(store, settings, name)
    if generated:
        print(f"password: {password}")


def users_command(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
        store = _open(settings, must_exist=args.action != "add")
    except CliError as exc:
        print(f"ioc users: {exc}", file=sys.stderr)
        return exc.code
    try:
        _run(store, args, settings)
    except (CliError, StoreError) as exc:
        print(f"ioc users: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


def token_command(args: argparse.Namespace) -> int:
    try:
        settings = _settings(args)
    except CliError as exc:
        print(f"ioc token: {exc}", file=sys.stderr)
        return exc.code
    minutes = args.minutes if args.minutes is not None else settings.token_ttl_minutes
    what = "--minutes" if args.minutes is not None else "IOC_TOKEN_TTL_MINUTES"
    if not 0 < minutes <= MAX_TOKEN_MINUTES:
        print(
            f"ioc token: {what} must be between 1 and {MAX_TOKEN_MINUTES} (10 years), got {minutes}",
            file=sys.stderr,
        )
        return 1
    try:
        store = _open(settings, must_exist=True)
    except CliError as exc:
        print(f"ioc token: {exc}", file=sys.stderr)
        return exc.code
    try:
        user = store.get_user(args.username)
        if user is None:
            print(f"ioc token: unknown user {args.username!r} (see: ioc users list)", file=sys.stderr)
            return 1
        sessions = SessionStore.open_for(store, settings.data_dir)
        secret = load_or_create_secret(settings.data_dir)
        print(issue_token(secret, sessions, user, timedelta(minutes=minutes), kind=SessionKind.CLI))
    except StoreError as exc:
        print(f"ioc token: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0
