"""Why a camera is in its state: a ``ReasonCode`` with arguments, and its English text.

Readers and the supervisor build ``Reason`` values (never free text); ``CameraStatus`` carries the
code and arguments for the wall to translate, and the English text for logs and API clients.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ioc.messages import ReasonCode

TEXT: Mapping[ReasonCode, str] = {
    ReasonCode.STARTING: "starting",
    ReasonCode.RECEIVING: "receiving frames",
    ReasonCode.RECONNECTING: "reconnecting (attempt {n:.0f})",
    ReasonCode.NO_FIRST_FRAME: "no first frame for {n:.1f} s",
    ReasonCode.NO_FRAME: "no frame for {n:.1f} s",
    ReasonCode.EOF: "end of file",
    ReasonCode.ENDED: "stream ended",
    ReasonCode.STOPPED: "stopped",
    ReasonCode.DISABLED: "disabled",
    ReasonCode.REFUSED: "connection refused",
    ReasonCode.NOT_FOUND: "file not found",
    ReasonCode.DENIED: "permission denied",
    ReasonCode.IS_DIR: "is a directory, expected a video file",
    ReasonCode.UNREADABLE: "not a readable video (invalid data)",
    ReasonCode.INVALID: "invalid data (no answer in time, or not a video stream)",
    ReasonCode.NO_DATA: "no data for {n:.1f} s (timed out)",
    ReasonCode.NO_ANSWER: "no answer within {n:.1f} s (timed out)",
    ReasonCode.NO_VIDEO: "has no video stream",
    ReasonCode.NO_DECODABLE: "contains no decodable video frames",
    ReasonCode.FAILED: "reader failed: {detail}",
    ReasonCode.OTHER: "{detail}",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """A reason code and its arguments (``n`` a number, rounded as the text shows it; ``detail``)."""

    code: ReasonCode
    args: Mapping[str, float | str] = field(default_factory=dict)

    @classmethod
    def of(cls, code: ReasonCode, **args: float | str) -> Reason:
        n = args.get("n")
        if isinstance(n, float):
            args["n"] = round(n, 1)
        return cls(code, args)

    @property
    def text(self) -> str:
        return TEXT[self.code].format(**self.args)

    def redacted(self, redact: Callable[[str], str]) -> Reason:
        """The same reason with every text argument passed through ``redact`` (credentials hidden)."""
        args = {k: redact(v) if isinstance(v, str) else v for k, v in self.args.items()}
        return Reason(self.code, args)

    def __str__(self) -> str:
        return self.text

    def status_fields(self) -> dict[str, Any]:
        """The ``CameraStatus`` fields that say why: ``reason``, ``reason_code``, ``reason_args``."""
        return {"reason": self.text, "reason_code": self.code, "reason_args": dict(self.args)}
