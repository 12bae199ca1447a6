"""``ioc`` command line: one entry point, sub-commands import their module lazily.

Each sub-command is implemented as ``<module>:<function>(args) -> int`` so that ``ioc check`` does
not pay for importing torch.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

COMMANDS: dict[str, str] = {
    "check": "ioc.config.check:check_command",
    "replay": "ioc.pipeline.replay:replay_command",
    "serve": "ioc.app.serve:serve_command",
    "worker": "ioc.app.worker:worker_command",
    "users": "ioc.app.users_cli:users_command",
    "token": "ioc.app.users_cli:token_command",
    "models": "ioc.detect.models_cli:models_command",
    "demo": "ioc.pipeline.demo:demo_command",
}


def offline_environment(data_dir: Path | None = None) -> None:
    """A command centre is a closed network: nothing may phone home."""
    base = data_dir or Path(os.environ.get("IOC_DATA_DIR", "data"))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str((base / "cache" / "ultralytics").resolve()))
    os.environ.setdefault("MPLCONFIGDIR", str((base / "cache" / "matplotlib").resolve()))
    os.environ.setdefault("CI", "true")  # OpenVINO telemetry opt-out honours CI
    os.environ.setdefault("OPENVINO_TELEMETRY_OPT_OUT", "1")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ioc", description="IOC video analytics and operations engine")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate a cameras.yaml; prints OK or every error with its line")
    c.add_argument("file", type=Path)
    c.add_argument("--kpi", action="store_true", help="the file is a kpi.yaml (KPI sources, working hours)")

    r = sub.add_parser("replay", help="run the pipeline on a recorded file in video time")
    r.add_argument("--config", type=Path, default=Path("cameras.yaml"), help="ignored with --compare")
    r.add_argument("--camera", required=True, help="camera id in the config whose rules to apply")
    r.add_argument("--source", type=Path, required=True, help="video file")
    r.add_argument("--events-out", type=Path, help="JSON lines output, one Alert per line (required)")
    r.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD", "NEW"),
        default=None,
        help="dry run: both configs on the same footage; print the alerts that appear, disappear or change",
    )
    r.add_argument("--flows-out", type=Path, default=None, help="JSON lines output, one FlowCount per line")
    r.add_argument("--data-dir", type=Path, default=None, help="where snapshots go (default: IOC_DATA_DIR)")
    r.add_argument("--start-time", default="1970-01-01T00:00:00Z", help="wall time of the file's first frame")
    r.add_argument("--no-snapshots", action="store_true", help="skip writing snapshot JPEGs")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = sub.add_parser("serve", help="engine + API + dashboard in one process")
    s.add_argument("--config", type=Path, default=None, help="cameras.yaml (default: IOC_CONFIG_PATH)")
    s.add_argument("--host", default=None)
    s.add_argument("--port", type=int, default=None)
    s.add_argument("--data-dir", type=Path, default=None)
    s.add_argument("--no-engine", action="store_true", help="API only (camera workers run elsewhere)")
    s.add_argument("--tls-cert", type=Path, default=None, help="PEM certificate: serve HTTPS (IOC_TLS_CERT)")
    s.add_argument("--tls-key", type=Path, default=None, help="PEM private key (IOC_TLS_KEY)")

    w = sub.add_parser("worker", help="cluster camera worker: leases cameras, publishes to IOC_REDIS_URL")
    w.add_argument("--config", type=Path, default=None, help="cameras.yaml (default: IOC_CONFIG_PATH)")
    w.add_argument("--node", default=None, help="worker name (default: IOC_NODE_NAME, else host name)")
    w.add_argument("--port", type=int, default=None, help="health/metrics port (IOC_WORKER_PORT)")
    w.add_argument("--data-dir", type=Path, default=None, help="snapshots, spool (default: IOC_DATA_DIR)")

    u = sub.add_parser("users", help="manage users")
    u.add_argument("action", choices=["add", "list", "passwd", "remove"])
    u.add_argument("username", nargs="?")
    u.add_argument("--role", choices=["admin", "operator", "police", "traffic", "agency"], default="operator")
    u.add_argument("--agency", default=None, help="add --role agency: the agency the user sees (required)")
    u.add_argument("--password", default=None, help="default: prompt, or generate when not a terminal")
    u.add_argument("--data-dir", type=Path, default=None)

    t = sub.add_parser("token", help="print an API token for a user (for scripts)")
    t.add_argument("username")
    t.add_argument("--minutes", type=int, default=None, help="lifetime (default: IOC_TOKEN_TTL_MINUTES)")
    t.add_argument("--data-dir", type=Path, default=None)

    m = sub.add_parser("models", help="model provisioning")
    m.add_argument("action", choices=["fetch", "list", "export"])
    m.add_argument("name", nargs="?", default="yolov8s-world")
    m.add_argument("--models-dir", type=Path, default=None)
    m.add_argument("--imgsz", type=int, default=None, help="export: detector input size (default 320)")
    m.add_argument("--int8", action="store_true", help="export: also quantize to INT8 and check it")
    m.add_argument(
        "--calibration-frames", type=int, default=None, help="export --int8: frames per footage source (40)"
    )
    m.add_argument("--config", type=Path, default=None, help="export --int8: cameras to calibrate on")
    m.add_argument("--data-dir", type=Path, default=None, help="export --int8: where demo/ footage is")

    d = sub.add_parser("demo", help="demo footage and config")
    d.add_argument("action", choices=["prepare"])
    d.add_argument("--data-dir", type=Path, default=None)
    return p


def _resolve(target: str) -> Callable[[argparse.Namespace], int]:
    module, func = target.split(":")
    fn: Callable[[argparse.Namespace], int] = getattr(importlib.import_module(module), func)
    return fn


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    offline_environment(getattr(args, "data_dir", None))
    try:
        return _resolve(COMMANDS[args.command])(args)
    except KeyboardInterrupt:
        return 130
    except ValidationError as exc:  # settings from IOC_* variables or flags
        from ioc.app.settings_check import settings_error_lines

        for line in settings_error_lines(exc):
            print(f"ioc {args.command}: {line}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `ioc check f | head -1`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
