"""Plane geometry on normalised image coordinates (x right, y down). Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]


def cross(o: Point, a: Point, b: Point) -> float:
    """z of (a - o) x (b - o). With y pointing down, positive means b lies clockwise of a."""
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def side_of_line(a: Point, b: Point, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """cross(b - a, p - a) for each row p of ``points`` (N, 2)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    return (dx * (points[:, 1] - a[1]) - dy * (points[:, 0] - a[0])).astype(np.float32)


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    return min(p[0], r[0]) <= q[0] <= max(p[0], r[0]) and min(p[1], r[1]) <= q[1] <= max(p[1], r[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """True when closed segments p1p2 and q1q2 share at least one point."""
    d1, d2 = cross(q1, q2, p1), cross(q1, q2, p2)
    d3, d4 = cross(p1, p2, q1), cross(p1, p2, q2)
    if ((d1 > 0) != (d2 > 0)) and ((d3 > 0) != (d4 > 0)) and 0 not in (d1, d2, d3, d4):
        return True
    checks = ((d1, q1, p1, q2), (d2, q1, p2, q2), (d3, p1, q1, p2), (d4, p1, q2, p2))
    return any(d == 0 and _on_segment(a, b, c) for d, a, b, c in checks)


def self_intersection(polygon: Sequence[Point]) -> tuple[int, int] | None:
    """Indices (i, j) of two non-adjacent edges that touch, or None for a simple polygon.

    Edge i runs from vertex i to vertex i+1 (wrapping).
    """
    n = len(polygon)
    edges = [(polygon[i], polygon[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue  # adjacent edges share a vertex by construction
            if segments_intersect(*edges[i], *edges[j]):
                return (i, j)
    return None


def polygon_area(polygon: Sequence[Point]) -> float:
    n = len(polygon)
    s = 0.0
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def points_in_polygon(polygon: Sequence[Point], points: npt.NDArray[np.float32]) -> npt.NDArray[np.bool_]:
    """Even-odd rule point-in-polygon for each row of ``points`` (N, 2); vectorised over points."""
    inside = np.zeros(len(points), dtype=bool)
    if len(points) == 0:
        return inside
    x, y = points[:, 0], points[:, 1]
    n = len(polygon)
    for i in range(n):
        x1, y1 = polygon[i]
        x2, y2 = polygon[(i + 1) % n]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_at = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < x_at)
    return inside


def triangle_area(a: Point, b: Point, c: Point) -> float:
    return abs(cross(a, b, c)) / 2.0


def homography(src: Sequence[Point], dst: Sequence[Point]) -> npt.NDArray[np.float64]:
    """The 3×3 projective map taking the four ``src`` points onto the four ``dst`` points.

    Solved exactly (8 unknowns, ``h33 = 1``). Raises ``ValueError`` when the system is singular
    (three points on one line). Callers check the configuration first to name the problem.
    """
    if len(src) != 4 or len(dst) != 4:
        raise ValueError(f"a homography needs 4 point pairs, got {len(src)} and {len(dst)}")
    a = np.zeros((8, 8), dtype=np.float64)
    b = np.zeros(8, dtype=np.float64)
    for i, ((x, y), (u, v)) in enumerate(zip(src, dst, strict=True)):
        a[2 * i] = (x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y)
        a[2 * i + 1] = (0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y)
        b[2 * i], b[2 * i + 1] = u, v
    if abs(np.linalg.det(a)) < 1e-12:
        raise ValueError("the points do not determine a homography (three of them on one line)")
    h = np.linalg.solve(a, b)
    return np.append(h, 1.0).reshape(3, 3)


def project(
    h: npt.NDArray[np.float64], points: npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``points`` (N, 2) through ``h``: the mapped points (N, 2) and the homogeneous ``w`` (N,)."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    homog = np.column_stack([pts, np.ones(len(pts))]) @ h.T
    w = homog[:, 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        mapped = homog[:, :2] / w[:, None]
    return mapped, w
