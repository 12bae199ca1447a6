"""Loading cameras.yaml: valid files, the defaults → preset → camera merge, file-level errors."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest

from ioc.cli import main
from ioc.config import ConfigError, load_config, parse_config
from ioc.config.loader import PROJECT_PIPELINES, preset_search_dirs
from ioc.config.models import IntrusionRule, LineCrossingRule, LoiteringRule

ISSUE_YAML = """\
cameras:
  - id: gate-1
    source: rtsp://127.0.0.1:8554/gate
    zones: [{id: restricted, polygon: [[0.1,0.1],[0.5,0.1],[0.5,0.6],[0.1,0.6]]}]
    lines: [{id: crosswalk, points: [[0.0,0.5],[1.0,0.5]]}]
    rules:
      - {id: r1, type: intrusion, zone: restricted, classes: [person]}
      - {id: r2, type: line_crossing, line: crosswalk, classes: [person, car]}
      - {id: r3, type: loitering, zone: restricted, classes: [person], min_dwell_seconds: 10}
"""


def yaml_text(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


def errors_of(text: str, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(yaml_text(text), "cameras.yaml", **kwargs)  # type: ignore[arg-type]
    return info.value.errors


def test_issue_example_loads() -> None:
    config = parse_config(ISSUE_YAML, "cameras.yaml")

    (camera,) = config.cameras
    assert camera.id == "gate-1"
    assert camera.zone("restricted").polygon == ((0.1, 0.1), (0.5, 0.1), (0.5, 0.6), (0.1, 0.6))
    assert camera.line("crosswalk").points == ((0.0, 0.5), (1.0, 0.5))
    assert [type(r) for r in camera.rules] == [IntrusionRule, LineCrossingRule, LoiteringRule]
    assert isinstance(camera.rules[2], LoiteringRule)
    assert camera.rules[2].min_dwell_seconds == 10
    assert camera.rules[1].classes == ("person", "car")


def test_ioc_check_prints_ok_for_the_issue_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("YOLO_OFFLINE", "YOLO_CONFIG_DIR", "MPLCONFIGDIR", "CI", "OPENVINO_TELEMETRY_OPT_OUT"):
        monkeypatch.setenv(name, os.environ.get(name, str(tmp_path)))
    path = tmp_path / "cameras.yaml"
    path.write_text(ISSUE_YAML, encoding="utf-8")

    code = main(["check", str(path)])

    assert (code, capsys.readouterr().out) == (0, f"OK: {path}: 1 cameras, 3 rules\n")


def test_load_config_reads_a_file_with_bom_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "cameras.yaml"
    path.write_bytes(b"\xef\xbb\xbf# Site: Qu\xe1\xba\xadn 1\n" + ISSUE_YAML.encode())

    assert load_config(path).cameras[0].id == "gate-1"


def test_site_and_retention_are_read() -> None:
    config = parse_config(
        yaml_text("""
            site: {name: "Quận 1", map_center: {lat: 10.776, lon: 106.700}}
            retention: {max_age_days: 7, max_disk_mb: 512}
            cameras: [{id: c1, source: rtsp://h/1}]
        """),
        "cameras.yaml",
    )

    assert config.site.name == "Quận 1"
    assert config.site.map_center is not None and config.site.map_center.lat == pytest.approx(10.776)
    assert (config.retention.max_age_days, config.retention.max_disk_mb) == (7, 512)


DEFAULTS_YAML = """
    defaults:
      category: traffic
      detect: {fps: 3, classes: [person, car], imgsz: 640}
      track: {lost_track_seconds: 4}
      zones: [{id: all, polygon: [[0, 0], [1, 0], [1, 1], [0, 1]]}]
      rules: [{id: anyone, type: intrusion, zone: all, classes: [person]}]
    cameras:
      - id: plain
        source: rtsp://h/1
      - id: override
        source: rtsp://h/2
        category: security
        detect: {fps: 10, classes: [bus]}
        rules: []
"""


@pytest.mark.parametrize(
    ("camera_id", "category", "fps", "classes", "imgsz", "lost", "rules"),
    [
        ("plain", "traffic", 3, ("person", "car"), 640, 4, ("anyone",)),
        # lists and scalars from the camera replace the defaults; mappings merge key by key
        ("override", "security", 10, ("bus",), 640, 4, ()),
    ],
)
def test_defaults_merge_under_each_camera(
    camera_id: str,
    category: str,
    fps: float,
    classes: tuple[str, ...],
    imgsz: int,
    lost: float,
    rules: tuple[str, ...],
) -> None:
    camera = parse_config(yaml_text(DEFAULTS_YAML), "cameras.yaml").camera(camera_id)

    assert camera.category == category
    assert (camera.detect.fps, camera.detect.classes, camera.detect.imgsz) == (fps, classes, imgsz)
    assert camera.track.lost_track_seconds == lost
    assert camera.track.match_threshold == 0.8  # model default where no layer says anything
    assert tuple(r.id for r in camera.rules) == rules


def test_defaults_error_is_reported_once_for_all_cameras() -> None:
    errors = errors_of("""
        defaults:
          detect: {confidence: 2}
        cameras:
          - {id: c1, source: rtsp://h/1}
          - {id: c2, source: rtsp://h/2}
    """)

    assert errors == ["defaults.detect.confidence: Input should be less than or equal to 1, got 2 (line 2)"]


@pytest.mark.parametrize(
    ("preset", "category", "fps", "classes"),
    [
        ("traffic-intersection", "traffic", 8, ("person", "bicycle", "car", "motorcycle", "bus", "truck")),
        (
            "security-perimeter",
            "security",
            5,
            ("person", "bicycle", "car", "motorcycle", "truck", "backpack", "handbag", "suitcase"),
        ),
    ],
)
def test_shipped_presets_apply(preset: str, category: str, fps: float, classes: tuple[str, ...]) -> None:
    config = parse_config(
        yaml_text(f"""
            cameras:
              - id: c1
                source: rtsp://h/1
                preset: {preset}
        """),
        "cameras.yaml",
    )

    camera = config.cameras[0]
    assert (camera.category, camera.detect.fps, camera.detect.classes) == (category, fps, classes)
    assert camera.rules and all(r.references() == () for r in camera.rules)  # whole-picture rules


@pytest.mark.parametrize(
    ("preset", "types"),
    [
        ("traffic-intersection", ["congestion", "stopped_vehicle"]),
        ("security-perimeter", ["abandoned_object", "crowding"]),
    ],
)
def test_preset_rules_apply_until_a_camera_lists_its_own(preset: str, types: list[str]) -> None:
    text = f"""
        cameras:
          - {{id: c1, source: rtsp://h/1, preset: {preset}}}
          - id: c2
            source: rtsp://h/2
            preset: {preset}
            zones: [{{id: z, polygon: [[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]]}}]
            rules: [{{id: mine, type: intrusion, zone: z}}]
    """
    config = parse_config(yaml_text(text), "cameras.yaml")
    assert sorted(r.model_dump()["type"] for r in config.cameras[0].rules) == types
    assert [r.id for r in config.cameras[1].rules] == ["mine"]


def test_every_shipped_preset_validates() -> None:
    names = sorted(p.stem for p in PROJECT_PIPELINES.glob("*.yaml"))
    cameras = "".join(f"  - {{id: c{i}, source: rtsp://h/{i}, preset: {n}}}\n" for i, n in enumerate(names))

    config = parse_config("cameras:\n" + cameras, "cameras.yaml")

    assert {"traffic-intersection", "security-perimeter"} <= set(names)
    assert len(config.cameras) == len(names)


def test_merge_order_is_defaults_then_preset_then_camera(tmp_path: Path) -> None:
    (tmp_path / "busy.yaml").write_text(
        "detect: {fps: 8, imgsz: 640}\ntrack: {lost_track_seconds: 2}\n", encoding="utf-8"
    )
    (tmp_path / "more").mkdir()
    (tmp_path / "more" / "calm.yaml").write_text("detect: {fps: 1}\n", encoding="utf-8")
    text = yaml_text("""
        defaults:
          preset: busy
          detect: {fps: 2, confidence: 0.5}
          track: {lost_track_seconds: 9, match_threshold: 0.7}
        cameras:
          - {id: c1, source: rtsp://h/1}
          - {id: c2, source: rtsp://h/2, detect: {fps: 4}}
          - {id: c3, source: rtsp://h/3, preset: calm}
          - {id: c4, source: rtsp://h/4, preset: null}
    """)

    c1, c2, c3, c4 = parse_config(text, "cameras.yaml", preset_dirs=[tmp_path, tmp_path / "more"]).cameras

    assert (c1.detect.fps, c1.detect.imgsz, c1.detect.confidence) == (8, 640, 0.5)  # preset over defaults
    assert (c1.track.lost_track_seconds, c1.track.match_threshold) == (2, 0.7)
    assert c2.detect.fps == 4  # camera over preset
    assert (c3.detect.fps, c3.detect.imgsz) == (1, 320)  # the camera's own preset replaces the default one
    assert (c4.detect.fps, c4.track.lost_track_seconds) == (2, 9)  # preset: null cancels the default one


def test_presets_next_to_the_config_shadow_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "pipelines").mkdir()
    (tmp_path / "pipelines" / "traffic-intersection.yaml").write_text("detect: {fps: 2}\n", encoding="utf-8")
    path = tmp_path / "cameras.yaml"
    path.write_text(
        "cameras: [{id: c1, source: rtsp://h/1, preset: traffic-intersection}]\n", encoding="utf-8"
    )

    assert load_config(path).cameras[0].detect.fps == 2
    assert preset_search_dirs(path)[0] == tmp_path / "pipelines"
    assert preset_search_dirs(path)[-1] == PROJECT_PIPELINES


@pytest.mark.parametrize(
    ("preset_text", "expected"),
    [
        (
            "detect: {fps: 500}\n",
            "cameras[0].preset['p'].detect.fps: Input should be less than or equal to 60",
        ),
        ("id: x\n", "cameras[0].preset['p'].id: a camera id cannot come from preset 'p' (line 1 of "),
        ("preset: q\n", "cameras[0].preset['p'].preset: a preset cannot name another preset (line 1 of "),
        ("- detect\n", "p.yaml: a preset must be a mapping of camera settings, got a list of 1 item"),
        ("detect: {fps: [1,\n", "p.yaml: YAML syntax error: "),
    ],
)
def test_preset_errors_name_the_preset_file(tmp_path: Path, preset_text: str, expected: str) -> None:
    (tmp_path / "p.yaml").write_text(preset_text, encoding="utf-8")

    errors = errors_of("cameras: [{id: c1, source: rtsp://h/1, preset: p}]", preset_dirs=[tmp_path])

    assert any(expected in e for e in errors), errors


def test_every_error_in_a_file_is_reported_in_order() -> None:
    errors = errors_of("""
        cameras:
          - id: c1
            source: rtsp://h/1
            detect: {fps: -1, imgsz: 10}
            zones:
              - {id: z, polygon: [[0, 0], [1, 1], [1, 0], [0, 1]]}
          - id: c2
            source: ftp://h/2
    """)

    assert errors == [
        "cameras[0].detect.fps: Input should be greater than 0, got -1 (line 4)",
        "cameras[0].detect.imgsz: Input should be greater than or equal to 64, got 10 (line 4)",
        "cameras[0].zones[0].polygon: polygon self-intersects (edges 0 and 2 cross) (line 6)",
        "cameras[1].source: unsupported source scheme in 'ftp://h/2': expected rtsp://, http(s):// "
        "or a file path (line 8)",
    ]


def test_duplicate_camera_id_is_reported_next_to_other_errors() -> None:
    errors = errors_of("""
        cameras:
          - {id: c1, source: rtsp://h/1, detect: {fps: 0}}
          - {id: c1, source: rtsp://h/2}
    """)

    assert errors == [
        "cameras[0].detect.fps: Input should be greater than 0, got 0 (line 2)",
        "cameras[1].id: duplicate id 'c1' (first at line 2) (line 3)",
    ]


def test_value_merged_from_an_anchor_points_at_the_anchor() -> None:
    # top-level keys starting with x- are ignored: a place to keep anchors
    errors = errors_of("""
        x-base: &base
          source: rtsp://h/1
          loop: sometimes
        cameras:
          - <<: *base
            id: c1
    """)

    assert errors == [
        "cameras[0].loop: Input should be a valid boolean, unable to interpret input, got 'sometimes' "
        "(line 3)"
    ]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, r"^{p}: file not found$"),
        (lambda p: p.mkdir(), r"^{p}: is a directory, expected a YAML file$"),
        (
            lambda p: p.write_bytes(b"cameras:\n  - id: c\xff\n"),
            r"^{p}: not UTF-8 text: invalid byte 0xff .*\(line 2\)$",
        ),
        (lambda p: p.write_bytes(b""), r"^{p}: file is empty"),
    ],
)
def test_file_level_errors(tmp_path: Path, setup: object, expected: str) -> None:
    path = tmp_path / "cameras.yaml"
    setup(path)  # type: ignore[operator]

    with pytest.raises(ConfigError) as info:
        load_config(path)

    (error,) = info.value.errors
    assert re.match(expected.format(p=re.escape(str(path))), error), error
    assert str(info.value) == error


def test_alias_bomb_is_refused_quickly() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]

    errors = errors_of("\n".join(levels))

    assert len(errors) == 1 and "values after expanding aliases" in errors[0]


def test_deep_nesting_is_refused() -> None:
    errors = errors_of("cameras: " + "[" * 80 + "]" * 80)

    assert len(errors) == 1 and "nested more than" in errors[0]


def test_every_cross_reference_error_of_a_camera_is_reported_at_once() -> None:
    text = """\
cameras:
  - id: c1
    source: rtsp://x/y
    detect: {classes: [person]}
    zones: [{id: z, polygon: [[0,0],[1,0],[1,1]]}]
    lines: [{id: l, points: [[0,0.5],[1,0.5]]}]
    rules:
      - {id: r1, type: intrusion, zone: nope}
      - {id: r2, type: line_crossing, line: missing}
      - {id: r3, type: loitering, zone: z, min_dwell_seconds: 3, classes: [bus]}
      - {id: r3, type: intrusion, zone: z}
"""
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "multi.yaml")
    assert caught.value.errors == [
        "cameras[0].rules[3].id: duplicate id 'r3' (first at line 10) (line 11)",
        "cameras[0].rules[0].zone: unknown zone 'nope'; defined: ['z'] (line 8)",
        "cameras[0].rules[1].line: unknown line 'missing'; defined: ['l'] (line 9)",
        "cameras[0].rules[2].classes: ['bus'] not in detect.classes ['person'] (line 10)",
    ]


def test_site_time_zone_is_checked() -> None:
    good = parse_config(ISSUE_YAML, "ok.yaml")
    assert good.site.timezone == "Asia/Ho_Chi_Minh"
    with pytest.raises(ConfigError) as caught:
        parse_config("site: {timezone: Mars/Olympus}\n" + ISSUE_YAML, "tz.yaml")
    assert caught.value.errors == [
        "site.timezone: unknown time zone 'Mars/Olympus': expected an IANA name such as"
        " 'Asia/Ho_Chi_Minh' (line 1)"
    ]
