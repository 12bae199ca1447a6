"""Process settings (ports, URLs, secrets): environment variables prefixed ``IOC_``.

Built by ``load_settings()`` and passed down; no module-level instance.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOC_", extra="ignore", frozen=True)

    config_path: Path = Field(Path("cameras.yaml"), description="cameras.yaml to run")
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
    database_url: str | None = Field(None, description="postgresql://… ; default SQLite under data_dir")
    device: str = Field("auto", description="auto | cpu | cuda | cuda:N")
    detect_max_batch: int = Field(
        1, ge=1, le=64, description="Frames per detector batch; 1 is fastest on CPU, raise it on a GPU"
    )
    token_ttl_minutes: int = Field(
        720, gt=0, le=5_270_400, description="Lifetime of login tokens (at most 10 years)"
    )

    @property
    def snapshots_dir(self) -> Path:
        return self.data_dir / "snapshots"


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]
