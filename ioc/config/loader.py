"""Load ``cameras.yaml`` into a validated ``IocConfig``; every error names its YAML path and line.

Top-level keys: ``site``, ``retention``, ``defaults``, ``cameras``. Each camera is built by deep-merging
``defaults`` → the camera's ``preset`` (``pipelines/<name>.yaml``) → the camera itself: mappings merge
key by key, lists and scalars from the later layer win.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import reduce
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedBase
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ioc.config.errors import (
    ConfigError,
    duplicate_id_errors,
    format_at,
    unique,
    unknown_key_message,
    validation_errors,
)
from ioc.config.models import IocConfig
from ioc.config.yaml_tree import (
    Node,
    Origin,
    TreeError,
    build_tree,
    describe,
    file_label,
    merge,
    to_plain,
    without,
)

TOP_LEVEL_KEYS = ("site", "retention", "defaults", "cameras")
EXTENSION_PREFIX = "x-"  # top-level keys that only hold YAML anchors, as in docker compose files
PROJECT_PIPELINES = Path(__file__).resolve().parents[2] / "pipelines"
_PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_NOT_IN_LAYER = {
    "id": "a camera id cannot come from {where}",
    "preset": "a preset cannot name another preset",
}

__all__ = ["ConfigError", "load_config", "parse_config", "preset_search_dirs"]


def load_config(path: Path, *, preset_dirs: Sequence[Path] | None = None) -> IocConfig:
    """Read and validate a config file. Raises ``ConfigError`` listing every problem."""
    return parse_config(_read_text(path), str(path), preset_dirs=preset_dirs)


def parse_config(text: str, filename: str, *, preset_dirs: Sequence[Path] | None = None) -> IocConfig:
    """Validate config text; ``filename`` names it in errors and locates ``pipelines/`` presets."""
    root = _parse_yaml(text, filename, None)
    _require_mapping(root, filename)
    dirs = list(preset_dirs) if preset_dirs is not None else preset_search_dirs(Path(filename))
    build = _Build(_Presets(dirs))
    merged_root = build.run(root)
    config: IocConfig | None = None
    try:
        config = IocConfig.model_validate(to_plain(merged_root))
    except ValidationError as exc:
        build.errors.extend(validation_errors(exc, merged_root))
    cameras = merged_root.child("cameras")
    if cameras is not None:
        build.errors.extend(duplicate_id_errors(cameras))
    if build.errors or config is None:
        raise ConfigError(unique(build.errors))
    return config


def preset_search_dirs(config_path: Path) -> list[Path]:
    """Where ``preset: NAME`` looks for ``NAME.yaml``: next to the config, the working directory, ioc's."""
    dirs = [config_path.parent / "pipelines", Path.cwd() / "pipelines", PROJECT_PIPELINES]
    out: list[Path] = []
    for d in dirs:
        if d.resolve() not in [o.resolve() for o in out]:
            out.append(d)
    return out


def _read_text(path: Path) -> str:
    label = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{label}: file not found"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{label}: is a directory, expected a YAML file"]) from None
    except OSError as exc:
        raise ConfigError([f"{label}: cannot read: {exc.strerror or exc}"]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        bad = raw[exc.start]
        msg = f"{label}: not UTF-8 text: invalid byte 0x{bad:02x} at offset {exc.start} (line {line})"
        raise ConfigError([msg]) from None


def _parse_yaml(text: str, label: str, file: str | None) -> Node:
    """YAML text to a ``Node`` tree; syntax errors become one ``ConfigError`` line with the line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. a reused anchor: legal, and not worth failing on
            data = YAML(typ="rt").load(text)
        line = data.lc.line + 1 if isinstance(data, CommentedBase) else 1
        return build_tree(data, "", line, file)
    except MarkedYAMLError as exc:
        raise ConfigError([_yaml_error(label, exc)]) from None
    except TreeError as exc:
        raise ConfigError([f"{label}: {exc} (line {exc.line})"]) from None
    except (YAMLError, ValueError, TypeError) as exc:
        one_line = " ".join(str(exc).split())
        raise ConfigError([f"{label}: YAML error: {one_line}"]) from None


def _yaml_error(label: str, exc: MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = " ".join(str(exc.problem or "").split())
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        first = exc.context_mark.line + 1
        if "duplicate key" in problem:
            problem = f"{problem.split(' with value')[0]} (first at line {first})"
        elif problem.startswith("but "):
            problem = f"{exc.context}, {problem}"
        else:
            problem = f"{problem} ({exc.context} at line {first})"
    where = f" (line {mark.line + 1})" if mark is not None else ""
    return f"{label}: YAML syntax error: {problem}{where}"


def _require_mapping(root: Node, label: str) -> None:
    keys = ", ".join(TOP_LEVEL_KEYS)
    if root.value is None:
        raise ConfigError([f"{label}: file is empty: expected a mapping with keys {keys}"])
    if not root.is_mapping:
        got, line = describe(root.value), root.origin.line
        msg = f"{label}: expected a mapping with keys {keys} at the top level, got {got} (line {line})"
        raise ConfigError([msg])


@dataclass(slots=True)
class _Presets:
    """Finds and parses ``pipelines/<name>.yaml`` once per name."""

    dirs: list[Path]
    cache: dict[str, tuple[Path, Node | None]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def find(self, name: str) -> Path | None:
        return next((d / f"{name}.yaml" for d in self.dirs if (d / f"{name}.yaml").is_file()), None)

    def available(self) -> list[str]:
        return sorted({p.stem for d in self.dirs if d.is_dir() for p in d.glob("*.yaml")})

    def load(self, name: str, path: Path) -> Node | None:
        """The preset's tree rooted at path '' (None when it is broken; the reason is in ``errors``)."""
        if name not in self.cache:
            self.cache[name] = (path, self._parse(path))
        return self.cache[name][1]

    def _parse(self, path: Path) -> Node | None:
        label = file_label(path)
        try:
            root = _parse_yaml(_read_text(path), label, label)
        except ConfigError as exc:
            self.errors.extend(exc.errors)
            return None
        if not root.is_mapping:
            got = describe(root.value)
            self.errors.append(f"{label}: a preset must be a mapping of camera settings, got {got}")
            return None
        return root


@dataclass(slots=True)
class _Build:
    """Merges defaults and presets into each camera; collects errors instead of stopping at one."""

    presets: _Presets
    errors: list[str] = field(default_factory=list)

    def run(self, root: Node) -> Node:
        kept = {}
        for key, child in root.items():
            if key in TOP_LEVEL_KEYS:
                kept[key] = child
            elif not key.startswith(EXTENSION_PREFIX):
                self.errors.append(format_at(child.origin, unknown_key_message(key, list(TOP_LEVEL_KEYS))))
        defaults = self._defaults(kept.pop("defaults", None))
        cameras = kept.get("cameras")
        if cameras is not None and isinstance(cameras.value, tuple):
            merged = tuple(self._camera(cam, defaults) for cam in cameras.value)
            kept["cameras"] = Node(merged, cameras.origin)
        self.errors.extend(self.presets.errors)
        return Node(kept, root.origin)

    def _defaults(self, node: Node | None) -> Node | None:
        if node is None or node.value is None:
            return None
        if not node.is_mapping:
            got = describe(node.value)
            self.errors.append(format_at(node.origin, f"expected a mapping of camera settings, got {got}"))
            return None
        self._forbid(node, "defaults", ("id",))
        return node

    def _camera(self, camera: Node, defaults: Node | None) -> Node:
        if not camera.is_mapping:
            return camera  # pydantic says what was expected, with this node's line
        layers = [without(defaults, "preset")] if defaults is not None else []
        preset_key = camera.child("preset")
        if preset_key is None and defaults is not None:
            preset_key = defaults.child("preset")
        if preset_key is not None and preset_key.value is not None:  # `preset: null`: none at all
            preset = self._preset(preset_key, camera.origin)
            if preset is not None:
                layers.append(preset)
        layers.append(without(camera, "preset"))
        return reduce(merge, layers)

    def _preset(self, key: Node, camera: Origin) -> Node | None:
        name = key.value
        if not isinstance(name, str) or not _PRESET_NAME.match(name):
            expected = "expected a preset name such as 'traffic-intersection'"
            self.errors.append(format_at(key.origin, f"{expected}, got {describe(name)}"))
            return None
        path = self.presets.find(name)
        if path is None:
            where = ", ".join(str(d) for d in self.presets.dirs)
            msg = unknown_key_message(name, self.presets.available(), what="preset")
            self.errors.append(format_at(key.origin, f"{msg} (searched {where})"))
            return None
        tree = self.presets.load(name, path)
        if tree is None:
            return None
        label = file_label(path)
        preset = _reroot(tree, f"{camera.path}.preset[{name!r}]", label)
        self._forbid(preset, f"preset {name!r}", ("id", "preset"))
        return without(preset, "id", "preset")

    def _forbid(self, layer: Node, where: str, keys: Sequence[str]) -> None:
        for key in keys:
            child = layer.child(key)
            if child is not None:
                self.errors.append(format_at(child.origin, _NOT_IN_LAYER[key].format(where=where)))


def _reroot(node: Node, prefix: str, file: str) -> Node:
    """``node`` with its paths re-rooted under ``prefix`` (a preset as seen from one camera)."""
    path = node.origin.path
    if path and not path.startswith("["):
        path = "." + path
    origin = Origin(prefix + path, node.origin.line, file)
    if isinstance(node.value, Mapping):
        return Node({k: _reroot(v, prefix, file) for k, v in node.value.items()}, origin)
    if isinstance(node.value, tuple):
        return Node(tuple(_reroot(v, prefix, file) for v in node.value), origin)
    return Node(node.value, origin)
