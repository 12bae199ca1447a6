"""Every Prometheus metric, declared once, labelled, incremented where the work happens."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FRAMES_READ = Counter("ioc_frames_read_total", "Frames decoded from a camera source", ["camera"])
FRAMES_CONVERTED = Counter(
    "ioc_frames_converted_total",
    "Decoded frames converted from the decoder's format when taken (format: bgr or luma)",
    ["camera", "format"],
)
FRAMES_DROPPED = Counter(
    "ioc_frames_dropped_total", "Frames overwritten in the latest-frame slot before use", ["camera"]
)
FRAMES_PROCESSED = Counter("ioc_frames_processed_total", "Frames through track+rules", ["camera"])
CAMERA_FPS = Gauge("ioc_camera_fps", "Measured decode frame rate", ["camera"])
CAMERA_UP = Gauge("ioc_camera_online", "1 when the camera is online", ["camera"])
RECONNECTS = Counter("ioc_camera_reconnects_total", "Source reconnect attempts", ["camera"])
STAGE_SECONDS = Histogram(
    "ioc_stage_seconds",
    "Time spent per stage",
    ["stage"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
INFERENCE_SECONDS = Histogram(
    "ioc_inference_seconds",
    "Detector time per batch",
    ["model"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2),
)
DETECTOR_BATCH = Histogram(
    "ioc_detector_batch_size", "Frames per detector batch", buckets=(1, 2, 4, 8, 16, 32)
)
ALERTS = Counter("ioc_alerts_total", "Alert messages produced", ["camera", "rule", "state"])
WS_CLIENTS = Gauge("ioc_ws_clients", "Connected websocket clients")
WS_DROPPED = Counter("ioc_ws_clients_cut_total", "Websocket clients cut off for being too slow")
WORKER_DROPPED = Counter(
    "ioc_worker_dropped_total", "Detected frames dropped because the camera worker was still busy", ["camera"]
)
DETECTOR_SKIPPED = Counter(
    "ioc_detector_skipped_total",
    "Frames not sent to the detector: no motion, no live track, re-check not due",
    ["camera"],
)
PIPELINE_ERRORS = Counter(
    "ioc_pipeline_errors_total",
    "Frames a pipeline stage failed on (logged with a traceback; the camera goes on)",
    ["camera", "stage"],
)
DETECTOR_FRAMES = Counter(
    "ioc_detector_frames_total",
    "Frames the detection planner handed on, by why (first, motion, tracks, stationary, recheck, hold)",
    ["camera", "reason"],
)
DETECTOR_IMAGES = Counter(
    "ioc_detector_images_total",
    "Images the detector ran on: whole frames (full) and full-resolution crops (region)",
    ["camera", "kind"],
)
DETECTOR_WAIT = Histogram(
    "ioc_detector_wait_seconds",
    "How long a frame that needed the detector waited for it (busy: something moves; quiet: re-checks)",
    ["priority"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0),
)
STATIONARY_OBJECTS = Gauge(
    "ioc_stationary_objects", "Tracked objects that have not moved (held between re-checks)", ["camera"]
)
TRACKED_OBJECTS = Gauge("ioc_tracked_objects", "Objects a camera tracks now", ["camera"])
IDS_CONTINUED = Counter(
    "ioc_track_ids_continued_total",
    "New tracker ids that continued an object lost a moment before (id switches mended)",
    ["camera"],
)
FRAME_TO_ALERT = Histogram(
    "ioc_frame_to_alert_seconds",
    "From a frame's decode to the alert it raised being published (live cameras)",
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0),
)
CONFIG_RELOADS = Counter(
    "ioc_config_reloads_total",
    "Config versions seen by hot reload: applied, refused (invalid) or failed (could not be applied)",
    ["result"],
)
KPI_RECORDS = Counter(
    "ioc_kpi_records_total", "KPI records received from a source, by outcome", ["source", "outcome"]
)
KPI_POLLS = Counter("ioc_kpi_polls_total", "Polls of a KPI pull source, by outcome", ["source", "outcome"])
LOGIN_LOCKS = Counter("ioc_login_locks_total", "Login locks started after repeated failed logins", ["scope"])
LOGIN_THROTTLED = Counter(
    "ioc_login_throttled_total",
    "Login attempts refused (slow-down or lock) without checking the password",
    ["scope"],
)
SPOOL_MESSAGES = Gauge("ioc_spool_messages", "Worker messages waiting on local disk for Redis")
SPOOLED = Counter("ioc_spooled_total", "Worker messages written to the local spool (Redis unreachable)")
SPOOL_DROPPED = Counter(
    "ioc_spool_dropped_total", "Worker messages dropped: the spool was full, or the message could not be sent"
)
LEASES_HELD = Gauge("ioc_leases_held", "Camera leases this worker holds")
LEASE_EVENTS = Counter(
    "ioc_lease_events_total", "Camera lease changes on this worker (acquired, lost, released)", ["event"]
)
FENCED = Counter(
    "ioc_fenced_messages_total", "Messages an API node dropped for a stale fencing token", ["camera"]
)
BUS_RECLAIMED = Counter(
    "ioc_bus_reclaimed_total", "Stream entries an API node reclaimed from a dead consumer (XAUTOCLAIM)"
)
LIVE_FRAMES = Counter(
    "ioc_live_frames_total",
    "Live camera pictures a worker offered to Redis for API nodes, by outcome "
    "(sent: a new picture; kept: unchanged, its expiry extended; fenced: refused, the lease is another's)",
    ["camera", "outcome"],
)
LIVE_FRAME_BYTES = Counter(
    "ioc_live_frame_bytes_total", "Bytes of live camera pictures a worker sent to Redis", ["camera"]
)
