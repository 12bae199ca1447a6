"""Process settings (ports, URLs, secrets): environment variables prefixed ``IOC_``.

Built by ``load_settings()`` and passed down; no module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", extra="ignore", frozen=True)

    config_path: Path = Field(Path("cameras.yaml"), description="cameras.yaml to run")
    kpi_config_path: Path = Field(
        Path("kpi.yaml"), description="KPI sources and working hours (optional file; README: KPIs)"
    )
    data_dir: Path = Field(Path("data"), description="Snapshots, SQLite database, secrets, caches")
    models_dir: Path = Field(Path("models"), description="Model manifest and weights")
    host: str = Field("127.0.0.1", description="API bind address")
    port: int = Field(8080, ge=1, le=65535, description="API port")
    redis_url: str | None = Field(None, description="redis://… to fan out through Redis Streams")
    node_name: str | None = Field(
        None, description="This node's name: API consumer group / worker lease owner (default: host name)"
    )
    lease_seconds: float = Field(
        10.0, ge=1.0, le=300.0, description="ioc worker: camera lease; a dead worker's cameras move within it"
    )
    worker_port: int = Field(9100, ge=1, le=65535, description="ioc worker: /healthz and /metrics port")
    spool_max_messages: int = Field(
        100_000, ge=1, description="ioc worker: messages kept on disk while Redis is unreachable"
    )
    live_frame_seconds: float = Field(
        0.5,
        ge=0,
        le=60,
        description="Cluster: how often a worker sends a watched camera's live picture to Redis for API "
        "nodes (set the same on API nodes: they wait about two of these for a first picture); 0: never",
    )
    database_url: str | None = Field(None, description="postgresql://… ; default SQLite under data_dir")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    openvino_threads: int = Field(
        0, ge=0, le=1024, description="OpenVINO inference threads on CPU; 0: every CPU but one (at least 1)"
    )
    precision: Literal["auto", "fp32", "int8"] = Field(
        "auto", description="OpenVINO on CPU: auto (INT8 when its check passed) | fp32 | int8"
    )
    detect_max_batch: int = Field(
        1, ge=1, le=64, description="Frames per detector batch; 1 is fastest on CPU, raise it on a GPU"
    )
    cuda_pipeline: bool = Field(
        True,
        description="On CUDA, run the on-device pipeline (upload once, letterbox and NMS on the GPU); "
        "false: Ultralytics' own predict on the GPU",
    )
    cuda_precision: Literal["fp16", "fp32"] = Field(
        "fp16", description="Model arithmetic of the on-device CUDA pipeline (the CPU always runs fp32)"
    )
    config_poll_seconds: float = Field(
        2.0, ge=0, le=3600, description="How often cameras.yaml is checked for changes (hot reload); 0: off"
    )
    token_ttl_minutes: int = Field(
        720, gt=0, le=5_270_400, description="Lifetime of login tokens (at most 10 years)"
    )
    session_idle_minutes: int = Field(
        60,
        ge=0,
        le=5_270_400,
        description="A login session unused this long ends (an open /ws keeps it in use); 0: no idle limit",
    )
    login_slowdown_after: int = Field(
        3, ge=1, le=1000, description="Failed logins (per user, per address) before each next try must wait"
    )
    login_lock_after: int = Field(
        10, ge=1, le=10000, description="Failed logins (per user, per address) that lock logins for a while"
    )
    login_lock_minutes: float = Field(
        15, gt=0, le=1440, description="How long a login lock lasts (and how long failures are remembered)"
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto", description="Secure flag on the session cookie; auto: when the request came over HTTPS"
    )
    trusted_proxies: str = Field(
        "127.0.0.1",
        description="Comma-separated addresses whose X-Forwarded-For/-Proto headers are believed ('*': any)",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated extra Origins allowed on /ws (the server's own origin always is)",
    )
    ws_compression: bool = Field(
        False,
        description="Offer permessage-deflate on /ws (compresses every message once per client: "
        "CPU on the API node for bandwidth a LAN wall does not need)",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=1_073_741_824, description="Largest request body accepted (413 above)"
    )
    tls_cert: Path | None = Field(None, description="PEM certificate: serve HTTPS (with tls_key)")
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
        return value

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
