"""A small progress bar for long replays, written to stderr.

On a terminal it redraws one line; elsewhere (CI logs) it prints a line every 10 %.
"""

from __future__ import annotations

import time
from typing import TextIO

BAR_WIDTH = 30


class Progress:
    def __init__(self, total: int, stream: TextIO, *, label: str = "", redraw_seconds: float = 0.25) -> None:
        self._total = max(total, 0)
        self._stream = stream
        self._label = label
        self._tty = stream.isatty()
        self._redraw = redraw_seconds
        self._started = time.monotonic()
        self._last_draw = float("-inf")
        self._last_decile = -1
        self._done = 0

    def update(self, done: int) -> None:
        self._done = done
        now = time.monotonic()
        if self._tty:
            if now - self._last_draw >= self._redraw:
                self._last_draw = now
                self._stream.write("\r" + self._line(now))
                self._stream.flush()
            return
        decile = (10 * done) // self._total if self._total else 0
        if decile > self._last_decile:
            self._last_decile = decile
            self._stream.write(self._line(now) + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._tty:
            self._stream.write("\r" + self._line(time.monotonic()) + "\n")
            self._stream.flush()

    def _line(self, now: float) -> str:
        elapsed = max(now - self._started, 1e-9)
        fps = self._done / elapsed
        if self._total:
            share = min(self._done / self._total, 1.0)
            filled = round(share * BAR_WIDTH)
            bar = "#" * filled + "." * (BAR_WIDTH - filled)
            return f"{self._label}[{bar}] {share:4.0%} {self._done}/{self._total} frames, {fps:.1f} fps"
        return f"{self._label}{self._done} frames, {fps:.1f} fps"
