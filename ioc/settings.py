"""Process settings (ports, URLs, secrets): environment variables prefixed ``IOC_``.

Built by ``load_settings()`` and passed down; no module-level instance.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
        None, description="This API node's Redis consumer group (default: the host name)"
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

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
