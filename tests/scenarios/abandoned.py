"""A left-object scene with exact ground truth, for the ``abandoned_object`` scenario test.

No bag in the pictures available offline is found by the default model, so the object is a stand-in
of another COCO class: a plush donkey (``plush`` in ``ioc.pipeline.footage``, a ``teddy bear`` to the
model), 0.24 of the frame high next to people 0.38 high: smaller, a crop at imgsz 320 no longer finds
it. Each object travels beside its person at ground level (rolled like a suitcase) and is put down;
then, in a 768×576 clip:

- ``LEFT`` (back row, left): its owner walks back out of the picture; nobody comes near it again.
- ``KEPT`` (back row, right): its owner stands next to it to the end.
- ``FETCHED`` (front row): its owner walks away, waits, comes back after about 6 s (less than
  ``MIN_SECONDS``) and takes it away.

At most two groups move at once, so the detector is always given crops (``detect.max_regions``),
where the object is seen at its full size. Expected times come from the script: an object is
unattended from the first frame its owner's anchor is ``OWNER_DISTANCE`` or more from its own.
"""

from __future__ import annotations

import math

from ioc.pipeline.footage import Actor, Script, walk

FPS = 10
W, H = 768, 576
PERSON_HEIGHT = 0.38
OBJECT_HEIGHT = 0.24
OBJECT_SPRITE = "plush"
OBJECT_CLASS = "teddy bear"  # the stand-in for a bag
MIN_SECONDS = 10.0
OWNER_DISTANCE = 0.22  # anchors; a carried object rolls 0.14 to 0.16 beside its owner's feet
BACK, FRONT = 0.6, 0.98  # ground rows (anchor y): nobody in one row covers an object in the other
END = 30.0

LEFT_OWNER = walk(
    "walker", PERSON_HEIGHT, [(0.0, -0.2, BACK), (4.0, 0.11, BACK), (5.0, 0.11, BACK), (8.0, -0.15, BACK)]
)
LEFT = walk(OBJECT_SPRITE, OBJECT_HEIGHT, [(0.0, -0.07, BACK), (4.0, 0.25, BACK), (END, 0.25, BACK)])

KEPT_OWNER = walk("suit", PERSON_HEIGHT, [(0.0, 1.2, BACK), (4.0, 0.88, BACK), (END, 0.88, BACK)])
KEPT = walk(OBJECT_SPRITE, OBJECT_HEIGHT, [(0.0, 1.05, BACK), (4.0, 0.72, BACK), (END, 0.72, BACK)])

FETCHED_OWNER = walk("walker", PERSON_HEIGHT, [
    (9.0, -0.2, FRONT), (12.0, 0.36, FRONT), (12.5, 0.36, FRONT), (14.5, 0.05, FRONT),
    (17.5, 0.05, FRONT), (19.5, 0.36, FRONT), (20.0, 0.36, FRONT), (23.5, 1.2, FRONT),
])  # fmt: skip
FETCHED = walk(
    OBJECT_SPRITE,
    OBJECT_HEIGHT,
    [(9.0, -0.07, FRONT), (12.0, 0.5, FRONT), (20.0, 0.5, FRONT), (23.5, 1.33, FRONT)],
)

SCENE = Script(
    width=W,
    height=H,
    fps=FPS,
    duration_seconds=END,
    actors=(LEFT_OWNER, LEFT, KEPT_OWNER, KEPT, FETCHED_OWNER, FETCHED),
)


def unattended_spans(
    script: Script, thing: Actor, owner: Actor, distance: float
) -> list[tuple[float, float]]:
    """(first, last) frame times of each run of frames with ``thing`` in the picture and ``owner``
    absent or at least ``distance`` away (anchor to anchor)."""
    spans: list[tuple[float, float]] = []
    run: list[float] = []
    for t in script.times():
        at, by = thing.anchor_at(t), owner.anchor_at(t)
        alone = at is not None and (by is None or math.dist(at, by) >= distance)
        if alone:
            run.append(t)
        elif run:
            spans.append((run[0], run[-1]))
            run = []
    if run:
        spans.append((run[0], run[-1]))
    return spans


def still_since(script: Script, thing: Actor, t: float) -> float:
    """The first frame time from which ``thing``'s anchor stays where it is at ``t`` until ``t``."""
    here = thing.anchor_at(t)
    since = t
    for s in reversed([s for s in script.times() if s <= t]):
        if thing.anchor_at(s) != here:
            break
        since = s
    return since


def abandoned_at(
    script: Script, thing: Actor, owner: Actor, distance: float, min_seconds: float
) -> float | None:
    """When ``thing`` has been still and alone ``min_seconds`` (the rule's contract), or None."""
    for first, last in unattended_spans(script, thing, owner, distance):
        for t in (s for s in script.times() if first <= s <= last):
            if t - max(first, still_since(script, thing, t)) >= min_seconds - 1e-9:
                return t
    return None


def camera_yaml(source: str) -> str:
    return f"""
cameras:
  - id: scene
    source: {source}
    detect: {{classes: [person, {OBJECT_CLASS}]}}
    rules:
      - {{id: left, type: abandoned_object, classes: [{OBJECT_CLASS}], min_seconds: {MIN_SECONDS},
         owner_distance: {OWNER_DISTANCE}}}
"""
