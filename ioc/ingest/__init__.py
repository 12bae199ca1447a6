"""Camera sources (RTSP, HTTP MJPEG, files), reconnect with backoff, stall watchdog, latest-frame slot."""

from ioc.ingest.backoff import Backoff
from ioc.ingest.picture import AvPicture
from ioc.ingest.reader import CameraReader
from ioc.ingest.slot import LatestFrameSlot
from ioc.ingest.sources import (
    FileInfo,
    SourceError,
    SourceKind,
    iter_file_frames,
    probe_file,
    read_video_frames,
    source_kind,
)
from ioc.ingest.state import IllegalTransition, StreamStateMachine

__all__ = [
    "AvPicture",
    "Backoff",
    "CameraReader",
    "FileInfo",
    "IllegalTransition",
    "LatestFrameSlot",
    "SourceError",
    "SourceKind",
    "StreamStateMachine",
    "iter_file_frames",
    "probe_file",
    "read_video_frames",
    "source_kind",
]
