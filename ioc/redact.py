"""Hide credentials in URLs and in text that may contain URLs (the one redaction rule).

``redact_url(url)`` returns the URL with

- the password of its userinfo replaced by ``***`` (``rtsp://admin:***@cam/live``; a user name
  alone is kept: it is not a secret and helps to tell cameras apart);
- the value of every *sensitive* query or fragment parameter replaced by ``***``
  (``rtsp://cam/stream?user=x&password=***``). A parameter is sensitive when its name, compared
  without case, is one of :data:`SENSITIVE_NAMES`, or one of the ``_ - .`` separated words of the
  name is (``api_key``, ``X-Amz-Signature``, ``access_token``), or it ends with one of
  :data:`SENSITIVE_SUFFIXES` (``apikey``, ``sessiontoken``).

Everything else (scheme, host, port, path, order and spelling of parameters) is kept as written,
so a redacted URL still tells an operator which camera it is. A string that is not a URL (a file
path) comes back unchanged. ``redact_text(text)`` applies the same rule to every URL inside free
text (log lines, error messages) and to bare ``?name=value`` / ``&name=value`` pairs such as a
logged request path ``/ws?token=…``.

This module has no dependencies, so the API, the ingest stage and the logging set-up can all use it.
"""

from __future__ import annotations

import re

MASK = "***"

SENSITIVE_NAMES = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pass",
        "token",
        "key",
        "secret",
        "auth",
        "signature",
        "sig",
        "credential",
        "credentials",
        "authorization",
        "session",
        "sessionid",
    }
)
"""Parameter names (or words of a name) whose values are never shown."""

SENSITIVE_SUFFIXES = ("password", "passwd", "token", "secret", "apikey", "signature")
"""A parameter whose lower-cased name ends with one of these is sensitive too."""

_WORD_SPLIT = re.compile(r"[_\-.]")
_URL_IN_TEXT = re.compile(r"\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")
_PAIR_IN_TEXT = re.compile(r"([?&;]([^=&\s\"'#;]+)=)([^&\s\"'#;]*)")


def is_sensitive(name: str) -> bool:
    """Whether a query parameter called ``name`` carries a secret."""
    lower = name.lower()
    if lower in SENSITIVE_NAMES or lower.endswith(SENSITIVE_SUFFIXES):
        return True
    return any(word in SENSITIVE_NAMES for word in _WORD_SPLIT.split(lower))


def _redact_pairs(query: str) -> str:
    """``a=1&password=x`` → ``a=1&password=***`` (separators ``&`` and ``;`` kept as written)."""
    out = []
    for piece in re.split(r"([&;])", query):
        name, eq, value = piece.partition("=")
        out.append(f"{name}={MASK}" if eq and value and is_sensitive(name) else piece)
    return "".join(out)


def _redact_netloc(netloc: str) -> str:
    userinfo, at, host = netloc.rpartition("@")
    if not at:
        return netloc
    user, colon, password = userinfo.partition(":")
    return f"{user}:{MASK}@{host}" if colon and password else netloc


def redact_url(url: str) -> str:
    """``url`` with its password and sensitive parameter values replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        return url
    end = len(rest)
    for mark in "/?#":
        pos = rest.find(mark)
        if pos != -1:
            end = min(end, pos)
    netloc, tail = rest[:end], rest[end:]
    path, qmark, query = tail.partition("?")
    query, hashmark, fragment = query.partition("#") if qmark else ("", "", "")
    if not qmark:
        path, hashmark, fragment = tail.partition("#")
    rebuilt = f"{scheme}://{_redact_netloc(netloc)}{path}"
    if qmark:
        rebuilt += "?" + _redact_pairs(query)
    if hashmark:
        rebuilt += "#" + _redact_pairs(fragment)
    return rebuilt


_TRAILING = ".,:;)]}"
"""Punctuation after a URL (or a pair) in a sentence, not part of it."""


def _pair(match: re.Match[str]) -> str:
    head, name, value = match.group(1), match.group(2), match.group(3)
    core = value.rstrip(_TRAILING)
    return f"{head}{MASK}{value[len(core) :]}" if core and is_sensitive(name) else match.group(0)


def _url_in_text(match: re.Match[str]) -> str:
    url = match.group(0)
    core = url.rstrip(_TRAILING)
    return redact_url(core) + url[len(core) :]


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted, and bare sensitive ``?name=value`` pairs masked."""
    text = _URL_IN_TEXT.sub(_url_in_text, text)
    return _PAIR_IN_TEXT.sub(_pair, text)
