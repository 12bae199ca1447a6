"""Users, roles, passwords (pwdlib/argon2), tokens (PyJWT) and the one visibility rule.

``visible_categories(role)`` decides what a role may see; REST and ``/ws`` both call it, so a
traffic officer can never receive a security alert on either path. The ``agency`` role narrows it
further by the user's agency: ``may_receive(principal, message, …)`` passes only public_service and
field_report alerts and KPI snapshots whose ``agency`` equals the user's, never camera status,
flows or the site-wide KPI snapshots (those add up every agency; an agency's own snapshots go to
its staff only), and ``sees_cameras`` keeps camera lists and frames from it.
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
from ioc.store.sessions import SessionKind

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
    AGENCY = "agency"


AGENCY_MAX_CHARS = 200
"""Longest agency name a user record may carry (names like "Sở Tư pháp" are far shorter)."""


class AuthError(Exception):
    """Credentials or token refused; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    role: Role
    session_id: str = ""
    agency: str | None = None
    """The user's agency (role ``agency`` only): the one agency whose alerts and KPIs they see."""


_VISIBLE: dict[Role, frozenset[Category] | None] = {
    Role.ADMIN: None,
    Role.OPERATOR: None,
    Role.POLICE: frozenset({Category.SECURITY}),
    Role.TRAFFIC: frozenset({Category.TRAFFIC}),
    Role.AGENCY: frozenset({Category.PUBLIC_SERVICE, Category.FIELD_REPORT}),
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


def sees_cameras(role: Role) -> bool:
    """Whether ``role`` may see cameras at all (lists, status, snapshot frames); agency staff may not."""
    return role is not Role.AGENCY


def agency_error(role: Role, agency: str | None) -> str | None:
    """Why ``agency`` cannot go with ``role`` (None: it can). The ``agency`` role needs a non-empty
    agency of at most ``AGENCY_MAX_CHARS`` characters; every other role must have none."""
    if role is not Role.AGENCY:
        return None if agency is None else f"agency: only the {Role.AGENCY.value!r} role has one"
    if agency is None or not agency.strip():
        return f"agency: required for the {Role.AGENCY.value!r} role (the agency whose data the user sees)"
    if agency != agency.strip() or len(agency) > AGENCY_MAX_CHARS or "\x00" in agency:
        return f"agency: {AGENCY_MAX_CHARS} characters at most, no NUL, no leading or trailing spaces"
    return None


def sees_agency(user: Principal, agency: str | None) -> bool:
    """Agency staff see only rows of their own agency; every other role is not limited by agency."""
    if user.role is not Role.AGENCY:
        return True
    return user.agency is not None and agency == user.agency


def may_receive(
    user: Principal, message: Alert | CameraStatus | KpiSnapshot | FlowCount, camera_category: Category | None
) -> bool:
    """``can_see`` for a logged-in user: the role's categories, then the ``agency`` role's limits
    (alerts and KPI snapshots of the user's agency only; no camera status or flows). A KPI snapshot
    of one agency goes to that agency's staff only."""
    if not can_see(user.role, message, camera_category):
        return False
    if isinstance(message, KpiSnapshot) and message.agency is not None:
        return user.role is Role.AGENCY and user.agency == message.agency
    if user.role is not Role.AGENCY:
        return True
    return isinstance(message, Alert) and sees_agency(user, message.agency)


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
    """A keyed fingerprint of what a session depends on: role, agency, password hash, creation
    time (changing any of them ends the user's sessions)."""
    fields = (user.username, user.role, user.password_hash, user.created_at.isoformat())
    record = "\0".join(fields + ((user.agency,) if user.agency is not None else ()))
    return hmac.new(secret.encode(), record.encode(), hashlib.sha256).hexdigest()[:32]


def issue_token(
    secret: str,
    sessions: SessionStore,
    user: UserRecord,
    ttl: timedelta,
    kind: SessionKind = SessionKind.LOGIN,
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
    return Principal(user.username, Role(user.role), session.id, user.agency)
