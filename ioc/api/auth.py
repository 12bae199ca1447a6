"""Users, roles, passwords (pwdlib/argon2), tokens (PyJWT) and the one visibility rule.

``visible_categories(role)`` decides what a role may see; REST and ``/ws`` both call it, so a
traffic officer can never receive a security alert on either path.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
from pwdlib import PasswordHash

from ioc.api.sessions import SessionEnded, SessionStore
from ioc.messages import Alert, CameraStatus, Category, FlowCount, KpiSnapshot
from ioc.store.base import Store, UserRecord

logger = logging.getLogger(__name__)

JWT_ALGORITHM = "HS256"
SECRET_FILE = "jwt-secret"
ADMIN_PASSWORD_FILE = "admin-password.txt"
COOKIE_NAME = "ioc_token"

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
USERNAME_RULE = "1-64 letters, digits or _.@- starting with a letter or digit"

_hasher = PasswordHash.recommended()


class Role(enum.StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    POLICE = "police"
    TRAFFIC = "traffic"


class AuthError(Exception):
    """Credentials or token refused; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: Role
    session_id: str = ""


_VISIBLE: dict[Role, frozenset[Category] | None] = {
    Role.ADMIN: None,
    Role.OPERATOR: None,
    Role.POLICE: frozenset({Category.SECURITY}),
    Role.TRAFFIC: frozenset({Category.TRAFFIC}),
}


def visible_categories(role: Role) -> frozenset[Category] | None:
    """Alert categories the role may see; None means all."""
    return _VISIBLE[role]


def can_see_category(role: Role, category: Category | None) -> bool:
    """``category`` None (e.g. a camera not in the config) is shown to all-seeing roles only."""
    allowed = visible_categories(role)
    return allowed is None or (category is not None and category in allowed)


def can_see(
    role: Role, message: Alert | CameraStatus | KpiSnapshot | FlowCount, camera_category: Category | None
) -> bool:
    """Whether ``role`` may receive ``message``; ``camera_category`` is the config's category of
    the message's camera (used for camera status). A KPI snapshot goes by its ``category``
    (None: all-seeing roles only)."""
    if isinstance(message, Alert | FlowCount):
        return can_see_category(role, message.category)
    if isinstance(message, CameraStatus):
        return can_see_category(role, camera_category)
    return can_see_category(role, message.category)


ACTING_ROLES = frozenset({Role.ADMIN, Role.OPERATOR})
"""Roles that may ack / assign / resolve; police and traffic watch their categories."""


def valid_username(username: str) -> bool:
    return re.fullmatch(USERNAME_PATTERN, username) is not None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return _hasher.verify(password, password_hash)
    except Exception:  # a malformed hash in the table must not turn into a 500
        logger.warning("unreadable password hash in the user table")
        return False


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def write_private(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner only (0600), replacing any previous file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_or_create_secret(data_dir: Path) -> str:
    """The JWT signing secret, generated on first start and kept under ``data_dir`` (0600)."""
    path = data_dir / SECRET_FILE
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if len(secret) >= 32:
            return secret
        logger.warning("%s is too short; generating a new secret (existing tokens become invalid)", path)
    secret = secrets.token_urlsafe(48)
    write_private(path, secret + "\n")
    return secret


def ensure_admin(store: Store, data_dir: Path) -> str | None:
    """On first start (no users at all) create ``admin`` with a generated password, write it to
    ``data_dir/admin-password.txt`` (0600) and return it; otherwise return None."""
    if store.list_users():
        return None
    password = generate_password()
    store.add_user("admin", Role.ADMIN.value, hash_password(password), datetime.now(UTC))
    write_private(
        data_dir / ADMIN_PASSWORD_FILE,
        f"username: admin\npassword: {password}\n"
        "Change it with: ioc users passwd admin, then delete this file.\n",
    )
    return password


def user_stamp(secret: str, user: UserRecord) -> str:
    """A keyed fingerprint of what a session depends on: role, password hash, creation time."""
    record = "\0".join((user.username, user.role, user.password_hash, user.created_at.isoformat()))
    return hmac.new(secret.encode(), record.encode(), hashlib.sha256).hexdigest()[:32]


def issue_token(
    secret: str, sessions: SessionStore, user: UserRecord, ttl: timedelta, kind: str = "login"
) -> str:
    """Open a server-side session for ``user`` and return its signed token (``sid`` names it).
    ``kind`` is ``login`` (idle limit applies) or ``cli`` (``ioc token``, for scripts)."""
    session = sessions.open(user.username, user_stamp(secret, user), kind, ttl.total_seconds())
    now = datetime.now(UTC)
    claims = {"sub": user.username, "sid": session.id, "iat": now, "exp": now + ttl}
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM)


def authenticate(store: Store, username: str, password: str) -> UserRecord:
    user = store.get_user(username)
    if user is None:
        _hasher.hash(password)  # same cost whether or not the user exists
        raise AuthError("wrong username or password")
    if not verify_password(password, user.password_hash):
        raise AuthError("wrong username or password")
    return user


def principal_from_token(
    store: Store, sessions: SessionStore, secret: str, token: str, idle_seconds: float
) -> Principal:
    """Decode and check a token, then its server-side session against the user's current record
    (a removed, changed or logged-out user's token stops working at once)."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options={"require": ["sub", "sid", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise AuthError("token expired") from exc
    except jwt.PyJWTError as exc:
        raise AuthError("invalid token") from exc
    user = store.get_user(str(claims["sub"]))
    if user is None:
        raise AuthError("unknown user")
    try:
        session = sessions.check(str(claims["sid"]), user.username, user_stamp(secret, user), idle_seconds)
    except SessionEnded as exc:
        raise AuthError(str(exc)) from exc
    return Principal(user.username, Role(user.role), session.id)
