"""Hot reload of ``cameras.yaml``: a file watch and the API's ``PUT /api/config`` share one path.

- The watch polls the file every ``poll_seconds``: when its modification time or size changed it
  reads it, and when the content's SHA-256 differs from the last version seen, reloads it (who:
  ``file``). Editors that save by writing a new file and renaming it are seen the same way.
- Every new version is validated by ``parse_config``, the loader ``ioc check`` uses. A refused
  version is logged with every error, as ``ioc check`` prints them; the running config stays and
  the same content is not reported again.
- An accepted version goes to ``apply(config, who)`` (the engine's ``apply`` plus the API's live
  config, wired by ``ioc serve``), which returns one line per change; the lines are logged with
  who made the change.
- ``submit`` is the API's way in: it saves the already validated text to the file first (so a
  restart runs what was accepted) and records its hash, so the watch does not reload it again;
  if applying fails, the previous file is put back.

Reloads are serialised by one lock: a file save and an API call never interleave.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ioc import metrics
from ioc.config.errors import ConfigError
from ioc.config.loader import parse_config, preset_search_dirs
from ioc.config.models import IocConfig

logger = logging.getLogger(__name__)

Apply = Callable[[IocConfig, str], list[str]]
"""Switch the running process to a validated config; returns one line per change."""

WriteFile = Callable[[Path, str], None]

FILE_USER = "file"


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    who: str
    applied: bool
    changes: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Seen:
    mtime_ns: int
    size: int
    digest: str


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ConfigReloader:
    """Watches ``path`` and applies valid new versions; also the API's ``submit``."""

    def __init__(self, path: Path, apply: Apply, *, poll_seconds: float = 2.0) -> None:
        self._path = path
        self._apply = apply
        self._listeners: list[Callable[[IocConfig], object]] = []
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._seen = self._stat_and_hash()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def path(self) -> Path:
        return self._path

    def on_applied(self, listener: Callable[[IocConfig], object]) -> None:
        """Call ``listener(config)`` after each applied config (the API's live config)."""
        self._listeners.append(listener)

    # -- the watch ------------------------------------------------------------------------

    def start(self) -> None:
        if self._poll <= 0:
            logger.info("config watch off (poll interval 0): %s reloads only through the API", self._path)
            return
        self._thread = threading.Thread(target=self._run, name="ioc-config-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        logger.info("watching %s for changes every %.1f s", self._path, self._poll)
        while not self._stop.wait(self._poll):
            try:
                self.check_file()
            except Exception:
                logger.exception("config watch: checking %s failed; trying again", self._path)

    def check_file(self) -> ReloadOutcome | None:
        """One poll: reload the file if it changed since the last version seen."""
        with self._lock:
            seen = self._seen
            try:
                stat = self._path.stat()
            except OSError:
                return None  # being replaced, or gone: the running config stays
            if seen is not None and (stat.st_mtime_ns, stat.st_size) == (seen.mtime_ns, seen.size):
                return None
            try:
                text = self._path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                text = None
                logger.warning("config reload from %s refused: cannot read it (%s)", self._path, exc)
            digest = _digest(text) if text is not None else ""
            self._seen = _Seen(stat.st_mtime_ns, stat.st_size, digest)
            if text is None or (seen is not None and digest == seen.digest):
                return None
            return self._reload(text, str(self._path), FILE_USER)

    # -- the API --------------------------------------------------------------------------

    def submit(self, text: str, config: IocConfig, who: str, write: WriteFile) -> ReloadOutcome:
        """Save ``text`` (``config`` is its validated form) to the file, then apply it; if applying
        fails the previous file is put back. Raises ``OSError`` (and applies nothing) when the file
        cannot be written."""
        with self._lock:
            previous = self._read_previous()
            write(self._path, text)
            self._seen = self._stat_and_hash()
            outcome = self._applied(config, who)
            if not outcome.applied:
                self._restore(previous, write)
            return outcome

    def _read_previous(self) -> str | None:
        try:
            return self._path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _restore(self, previous: str | None, write: WriteFile) -> None:
        try:
            if previous is None:
                self._path.unlink(missing_ok=True)
            else:
                write(self._path, previous)
        except OSError as exc:
            logger.error("could not put back the previous %s: %s", self._path, exc)
        self._seen = self._stat_and_hash()

    # -- shared ---------------------------------------------------------------------------

    def _reload(self, text: str, label: str, who: str) -> ReloadOutcome:
        try:
            config = parse_config(text, label, preset_dirs=preset_search_dirs(self._path))
        except ConfigError as exc:
            logger.error(
                "config reload by %s refused; the running config stays:\n  %s", who, "\n  ".join(exc.errors)
            )
            metrics.CONFIG_RELOADS.labels(result="refused").inc()
            return ReloadOutcome(who, applied=False, errors=tuple(exc.errors))
        return self._applied(config, who)

    def _applied(self, config: IocConfig, who: str) -> ReloadOutcome:
        try:
            changes = self._apply(config, who)
        except Exception as exc:
            logger.exception("config reload by %s failed while applying; the running config stays", who)
            metrics.CONFIG_RELOADS.labels(result="failed").inc()
            return ReloadOutcome(who, applied=False, errors=(f"{type(exc).__name__}: {exc}",))
        metrics.CONFIG_RELOADS.labels(result="applied").inc()
        for listener in self._listeners:
            listener(config)
        logger.info("config reloaded by %s: %s", who, "; ".join(changes))
        return ReloadOutcome(who, applied=True, changes=tuple(changes))

    def _stat_and_hash(self) -> _Seen | None:
        try:
            stat = self._path.stat()
            text = self._path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return _Seen(stat.st_mtime_ns, stat.st_size, _digest(text))
