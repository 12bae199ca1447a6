"""Config errors that name the YAML path and line: ``cameras[2].rules[0].zone: … (line 41)``.

Pydantic reports a ``loc`` tuple on the merged data; this module walks the same ``loc`` through the
``Node`` tree (which remembers where each value was written) and rewrites pydantic's wording to say
what was expected and what arrived.
"""

from __future__ import annotations

import ast
import difflib
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ioc.config.models import CameraConfig, IocConfig
from ioc.config.yaml_tree import Key, Node, Origin, describe, join_path, to_plain

# Keys the loader consumes before validation, so they are valid although the model lacks them.
LOADER_KEYS: Mapping[type[BaseModel], tuple[str, ...]] = {CameraConfig: ("preset",)}
_SUBPATH = re.compile(r"^([A-Za-z_]\w*(?:\[\d+\])*(?:\.[A-Za-z_]\w*(?:\[\d+\])*)*): (.+)$", re.DOTALL)
_TOKEN = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]")
_DUPLICATE = re.compile(r"^duplicate id (.+)$")
_UNKNOWN_CLASS = re.compile(r"^unknown class ('[^']*'|\"[^\"]*\")")
_NO_GOT = {"missing", "extra_forbidden", "value_error", "assertion_error", "too_short", "too_long"}
_REWORDED = (
    (re.compile(r"a valid (tuple|list)"), "a list"),
    (re.compile(r"a valid dictionary( or object to extract fields from| or instance of \w+)?"), "a mapping"),
)


class ConfigError(Exception):
    """A config that cannot be used. ``errors``: one ``path: message (line N)`` string each."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


def format_at(origin: Origin, message: str, suffix: Sequence[Key] = ()) -> str:
    """``path: message (line N)``; ``suffix`` extends the path below ``origin`` (a missing key)."""
    path = origin.path
    for key in suffix:
        path = join_path(path, key)
    where = f"line {origin.line}" if origin.line is not None else ""
    if origin.file is not None:
        where = f"{where} of {origin.file}" if where else origin.file
    label = path or "(top level)"
    return f"{label}: {message} ({where})" if where else f"{label}: {message}"


def locate(root: Node, loc: Sequence[Key]) -> tuple[Node, tuple[Key, ...]]:
    """The deepest node along ``loc`` and the part of ``loc`` below it that does not exist.

    Pydantic inserts the discriminator value into the ``loc`` of a tagged union member
    (``rules, 0, intrusion, zone``); such a step is skipped when it matches the node's ``type``.
    """
    node = root
    for i, part in enumerate(loc):
        child = node.child(part)
        if child is None and _is_tag(node, part):
            continue
        if child is None:
            return node, tuple(p for p in loc[i:] if not _is_tag(node, p))
        node = child
    return node, ()


def _is_tag(node: Node, part: Key) -> bool:
    kind = node.child("type")
    return isinstance(part, str) and kind is not None and kind.value == part and node.child(part) is None


def error_at(root: Node, loc: Sequence[Key], message: str) -> str:
    node, missing = locate(root, loc)
    return format_at(node.origin, message, missing)


def validation_errors(exc: ValidationError, root: Node, model: type[BaseModel] = IocConfig) -> list[str]:
    """Every pydantic error as ``path: message (line N)``, in order, without repeats; ``model`` is
    the model validated at ``root`` (``IocConfig`` for cameras.yaml)."""
    details = exc.errors(include_url=False)
    out = [
        line
        for err in details
        if not _follows_item_error(err, details)
        for line in _lines(err, root, model)
    ]
    return unique(out)


def _lines(err: ErrorDetails, root: Node, model: type[BaseModel]) -> list[str]:
    """A model validator may report several problems at once, one per line of its message."""
    if err["type"] in ("value_error", "assertion_error"):
        loc: tuple[Key, ...] = tuple(err["loc"])
        return [_custom(root, loc, part) for part in _strip_prefix(err["msg"]).split("\n")]
    return [_one(err, root, model)]


def unique(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


def _follows_item_error(err: ErrorDetails, details: Sequence[ErrorDetails]) -> bool:
    """A list whose item failed is then also 'too short'; that second error only misleads."""
    if err["type"] != "too_short":
        return False
    loc = err["loc"]
    return any(len(o["loc"]) > len(loc) and o["loc"][: len(loc)] == loc for o in details)


def _one(err: ErrorDetails, root: Node, model: type[BaseModel]) -> str:
    loc: tuple[Key, ...] = tuple(err["loc"])
    kind = err["type"]
    if kind in ("value_error", "assertion_error"):
        return _custom(root, loc, _strip_prefix(err["msg"]))
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        tags = str(ctx.get("expected_tags", "")).replace("'", "")
        return error_at(root, (*loc, "type"), f"unknown type {ctx.get('tag')!r}: expected one of {tags}")
    if kind == "union_tag_not_found":
        tags = ", ".join(_union_tags(_annotation_at(loc, model)))
        return error_at(root, (*loc, "type"), f"missing required key 'type': expected one of {tags}")
    if kind == "missing":
        return error_at(root, loc, f"missing required key {loc[-1]!r}")
    if kind == "extra_forbidden":
        keys = _model_keys(_annotation_at(loc[:-1], model))
        return error_at(root, loc, unknown_key_message(str(loc[-1]), keys))
    return error_at(root, loc, _expected_got(err))


def _strip_prefix(msg: str) -> str:
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg


def _custom(root: Node, loc: tuple[Key, ...], msg: str) -> str:
    """A model validator's message; ``rules[1].zone: …`` names a path below ``loc``."""
    match = _SUBPATH.match(msg)
    if match:
        loc = loc + tuple(int(i) if i else name for name, i in _TOKEN.findall(match.group(1)))
        msg = match.group(2)
    node, missing = locate(root, loc)
    if not missing:
        refined = _refine(node, msg)
        if refined is not None:
            return refined
    return format_at(node.origin, msg, missing)


def _refine(node: Node, msg: str) -> str | None:
    """Point at the offending list item: the repeated id, the unknown class name."""
    dup = _DUPLICATE.match(msg)
    if dup and isinstance(node.value, tuple):
        return _duplicate(node.value, _literal(dup.group(1)), msg)
    cls = _UNKNOWN_CLASS.match(msg)
    if cls and isinstance(node.value, tuple):
        name = _literal(cls.group(1))
        item = next((n for n in node.value if n.value == name), None)
        return format_at(item.origin, msg) if item is not None else None
    return None


def _duplicate(items: tuple[Node, ...], dup_id: object, msg: str) -> str | None:
    seen: Node | None = None
    for item in items:
        id_node = item.child("id")
        if id_node is None or id_node.value != dup_id:
            continue
        if seen is not None:
            return format_at(id_node.origin, f"{msg} (first at line {seen.origin.line})")
        seen = id_node
    return None


def duplicate_id_errors(items: Node) -> list[str]:
    """Every repeated ``id`` in a list of mappings, before pydantic gets that far."""
    if not isinstance(items.value, tuple):
        return []
    ids = [to_plain(n) for item in items.value if (n := item.child("id")) is not None]
    repeated = unique(i for k, i in enumerate(ids) if isinstance(i, str) and i in ids[:k])
    out = [_duplicate(items.value, i, f"duplicate id {i!r}") for i in repeated]
    return [e for e in out if e is not None]


def _literal(text: str) -> object:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _expected_got(err: ErrorDetails) -> str:
    msg = err["msg"]
    for pattern, new in _REWORDED:
        msg = pattern.sub(new, msg)
    if err["type"] == "string_pattern_mismatch" and str(err.get("ctx", {}).get("pattern", "")).startswith(
        "^[A-Za-z0-9][A-Za-z0-9_.-]"
    ):
        msg = "expected an id of letters, digits, '_', '.' or '-' (at most 64, not starting with a symbol)"
    if err["type"] in ("too_short", "too_long"):
        ctx = err.get("ctx", {})
        bound = ctx.get("min_length", ctx.get("max_length"))
        word = "least" if err["type"] == "too_short" else "most"
        msg = f"expected at {word} {bound} item{'s' if bound != 1 else ''}, got {describe(err['input'])}"
    if err["type"] not in _NO_GOT and "got" not in msg:
        msg = f"{msg}, got {describe(err['input'])}"
    return msg


def unknown_key_message(key: str, expected: list[str], what: str = "key") -> str:
    """``unknown key 'fsp' (did you mean 'fps'?); expected one of …``."""
    msg = f"unknown {what} {key!r}"
    close = difflib.get_close_matches(key, expected, n=1, cutoff=0.6)
    if close:
        msg += f" (did you mean {close[0]!r}?)"
    return f"{msg}; expected one of {', '.join(expected)}" if expected else msg


def _model_keys(annotation: Any) -> list[str]:
    model = _unwrap(annotation)
    if isinstance(model, type) and issubclass(model, BaseModel):
        return [*model.model_fields, *LOADER_KEYS.get(model, ())]
    return []


def _annotation_at(loc: Sequence[Key], model: type[BaseModel]) -> Any:
    """The type pydantic validated at ``loc`` (through models, tuples and tagged unions), or None."""
    tp: Any = model
    for part in loc:
        tp = _step(_unwrap(tp), part)
        if tp is None:
            return None
    return tp


def _step(tp: Any, part: Key) -> Any:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        field = tp.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    if get_origin(tp) is tuple and isinstance(part, int):
        args = get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        return args[part] if part < len(args) else None
    if _is_union(tp) and isinstance(part, str):
        return next((m for m in get_args(tp) if part in _union_tags(m)), None)
    return None


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated[...]`` and ``X | None`` down to ``X``."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
            continue
        if _is_union(tp):
            members = [a for a in get_args(tp) if a is not type(None)]
            if len(members) == 1:
                tp = members[0]
                continue
        return tp


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _union_tags(tp: Any) -> list[str]:
    """The ``type`` literals a model (or each member of a union) accepts."""
    tp = _unwrap(tp)
    members = get_args(tp) if _is_union(tp) else (tp,)
    tags: list[str] = []
    for member in members:
        if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
            annotation = member.model_fields["type"].annotation
            if get_origin(annotation) is Literal:
                tags.extend(str(a) for a in get_args(annotation))
    return tags
