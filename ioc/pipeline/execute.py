"""Carrying out detection plans: whole frames and full-resolution crops, in as few detector calls as
the input sizes allow, results mapped back to frame coordinates.

``run_plans(detector, plans)`` gives one ``Detections`` per plan (normalised to its frame, camera
filtering left to the worker). Plans of cameras with the same ``detect.imgsz`` share one call:
every whole frame and every crop is one image of the batch. A whole-frame pass also runs at the
lower ``detect.candidate_confidence``: boxes between that and ``detect.confidence`` are
*candidates* (a parked pickup that scores 0.2 at 320 px), looked at again in a second call on
full-resolution crops around them; what that finds replaces them. Boxes from overlapping crops are
merged (``regions.merge``). Both live (``DetectorLoop``) and ``ioc replay`` call this, so they see
the same detections.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ioc import metrics
from ioc.config.models import CameraConfig
from ioc.detect.base import Detector
from ioc.detect.regions import Region, crop, merge, plan_regions, to_frame, whole
from ioc.pipeline.planner import Plan
from ioc.types import Detections

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class _Job:
    """One plan's share of a detector call: the regions of its frame (None: the whole frame)."""

    camera: CameraConfig
    image: Image
    regions: tuple[Region, ...] | None

    @property
    def images(self) -> list[Image]:
        if self.regions is None:
            return [self.image]
        return [crop(self.image, r) for r in self.regions]

    def collect(self, results: Sequence[Detections]) -> Detections:
        if self.regions is None:
            return results[0]
        h, w = self.image.shape[:2]
        mapped = [to_frame(whole(d, r, w, h), r, w, h) for d, r in zip(results, self.regions, strict=True)]
        return merge(Detections.concat(mapped), iou=self.camera.detect.iou)


def run_plans(detector: Detector, plans: Sequence[Plan]) -> list[Detections]:
    """Detections for every plan that runs the detector (an empty value for hold plans)."""
    out = [Detections.empty() for _ in plans]
    groups: dict[int, list[int]] = {}
    for i, plan in enumerate(plans):
        if plan.runs_detector:
            groups.setdefault(plan.camera.detect.imgsz, []).append(i)
    for imgsz, members in sorted(groups.items()):
        jobs = [_Job(plans[i].camera, plans[i].frame.image, plans[i].regions) for i in members]
        first = _run(detector, jobs, imgsz, candidates=True)
        refined = _refine(detector, jobs, first, imgsz)
        for i, dets in zip(members, refined, strict=True):
            out[i] = dets
    return out


def _run(detector: Detector, jobs: Sequence[_Job], imgsz: int, *, candidates: bool) -> list[Detections]:
    """One detector call for every image of ``jobs``; one merged result per job."""
    images: list[Image] = []
    spans: list[tuple[int, int]] = []
    for job in jobs:
        batch = job.images
        spans.append((len(images), len(images) + len(batch)))
        images.extend(batch)
        kind = "full" if job.regions is None else "region"
        metrics.DETECTOR_IMAGES.labels(camera=job.camera.id, kind=kind).inc(len(batch))
    confidence = min(_threshold(job, candidates) for job in jobs)
    classes = tuple(sorted({c for job in jobs for c in job.camera.detect.classes}))
    results = detector.detect(images, imgsz=imgsz, confidence=confidence, classes=classes)
    if len(results) != len(images):
        raise RuntimeError(f"detector {detector.name}: {len(results)} results for {len(images)} images")
    return [job.collect(results[a:b]) for job, (a, b) in zip(jobs, spans, strict=True)]


def _threshold(job: _Job, candidates: bool) -> float:
    detect = job.camera.detect
    if candidates and job.regions is None and detect.regions:
        return min(detect.confidence, detect.candidate_confidence)
    return detect.confidence


def _refine(
    detector: Detector, jobs: Sequence[_Job], first: Sequence[Detections], imgsz: int
) -> list[Detections]:
    """Whole-frame candidates looked at again in full-resolution crops; their finds replace them."""
    out = list(first)
    second: list[tuple[int, _Job]] = []
    for k, (job, dets) in enumerate(zip(jobs, first, strict=True)):
        if job.regions is not None or not job.camera.detect.regions:
            continue
        sure = dets.confidence >= job.camera.detect.confidence
        out[k] = dets[sure]
        regions = _candidate_regions(job, dets[~sure], imgsz)
        if regions:
            second.append((k, _Job(job.camera, job.image, tuple(regions))))
    if second:
        again = _run(detector, [j for _, j in second], imgsz, candidates=False)
        for (k, job), found in zip(second, again, strict=True):
            out[k] = merge(Detections.concat([out[k], found]), iou=job.camera.detect.iou)
    return out


def _candidate_regions(job: _Job, weak: Detections, imgsz: int) -> list[Region]:
    detect = job.camera.detect
    wanted = np.isin(weak.class_name, np.asarray(detect.classes, dtype=object))
    weak = weak[wanted]
    if len(weak) == 0:
        return []
    h, w = job.image.shape[:2]
    if max(w, h) <= imgsz:
        return []  # the whole frame was already seen at full resolution
    scale = np.array([w, h, w, h], dtype=np.float32)
    order = np.argsort(-weak.confidence, kind="stable")[: detect.max_regions]
    boxes = [tuple(float(v) for v in weak.xyxy[i] * scale) for i in order]
    regions = plan_regions(boxes, w, h, min_side=imgsz, max_regions=detect.max_regions)
    return regions or []
