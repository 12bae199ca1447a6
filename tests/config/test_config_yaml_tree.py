"""The Node tree: paths as users write them, merge semantics, no mutation."""

from __future__ import annotations

import pytest
from ruamel.yaml import YAML

from ioc.config.errors import error_at, locate
from ioc.config.yaml_tree import build_tree, describe, join_path, merge, to_plain


def tree(text: str, path: str = ""):  # type: ignore[no-untyped-def]
    return build_tree(YAML(typ="rt").load(text), path, 1, None)


@pytest.mark.parametrize(
    ("parent", "key", "expected"),
    [
        ("", "cameras", "cameras"),
        ("cameras", 2, "cameras[2]"),
        ("cameras[2]", "rules", "cameras[2].rules"),
        ("defaults", "min_dwell_seconds", "defaults.min_dwell_seconds"),
        ("site", "two words", "site['two words']"),
    ],
)
def test_join_path(parent: str, key: str | int, expected: str) -> None:
    assert join_path(parent, key) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "null"), (True, "true"), (-3, "-3"), (0.5, "0.5"), ("x", "'x'"), ({}, "a mapping"),
     ([1], "a list of 1 item"), ([1, 2], "a list of 2 items")],
)  # fmt: skip
def test_describe(value: object, expected: str) -> None:
    assert describe(value) == expected


def test_nodes_know_path_and_line() -> None:
    root = tree("a:\n  b:\n    - x\n    - {c: 1}\n", "defaults")

    node, missing = locate(root, ("a", "b", 1, "c"))

    assert (node.origin.path, node.origin.line, missing) == ("defaults.a.b[1].c", 4, ())


def test_merge_is_deep_for_mappings_and_replaces_lists_without_touching_inputs() -> None:
    base = tree("d: {fps: 3, classes: [person, car]}\nkeep: 1\n", "defaults")
    over = tree("d: {classes: [bus]}\n", "cameras[0]")
    before = (to_plain(base), to_plain(over))

    merged = merge(base, over)

    assert to_plain(merged) == {"d": {"fps": 3, "classes": ["bus"]}, "keep": 1}
    assert locate(merged, ("d", "fps"))[0].origin.path == "defaults.d.fps"
    assert locate(merged, ("d", "classes"))[0].origin.path == "cameras[0].d.classes"
    assert (to_plain(base), to_plain(over)) == before


def test_missing_key_points_at_the_parent_and_tags_are_skipped() -> None:
    root = tree("rules:\n  - id: r\n    type: loitering\n")

    assert error_at(root, ("rules", 0, "loitering", "min_dwell_seconds"), "missing") == (
        "rules[0].min_dwell_seconds: missing (line 2)"
    )
