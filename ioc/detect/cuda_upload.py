"""Host → device upload of uint8 frame batches, double-buffered, and the two-stage pipeline runner.

``Uploader.upload`` takes a batch of BGR frames (any mix of sizes) and returns them as uint8
``(H, W, 3)`` tensors on the device, grouped by size into one contiguous block. On CUDA the block
is written into a reusable page-locked (pinned) host buffer, one of ``buffers`` (2) used in
turn, and copied with ``non_blocking=True`` on a dedicated copy stream; an event marks the copy's
end. ``Uploader.ready`` makes the caller's stream wait for that event on the GPU (the host does
not block) and tells the caching allocator that the caller's stream now uses the memory. A pinned
buffer is refilled only after its previous copy has finished, so at most ``buffers`` batches are
in flight. On the CPU there are no streams, events or pinned buffers: the frames are stacked
into a tensor and ``ready`` returns them; the same calls then simply run in order.

``pipelined`` runs batches through stage → launch → finish so that staging batch N+1 (host
stacking and the asynchronous copy) happens after batch N's device work was launched and before
its results are waited for: the copy of N+1 overlaps the compute of N.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import torch

T = TypeVar("T")
S = TypeVar("S")
L = TypeVar("L")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class Uploaded:
    """A batch on the device: one uint8 HWC tensor per frame, in input order; the copy's end event."""

    frames: tuple[torch.Tensor, ...]
    block: torch.Tensor
    done: Any = None  # torch.cuda.Event on CUDA


def _groups(images: Sequence[npt.NDArray[np.uint8]]) -> dict[tuple[int, ...], list[int]]:
    """Input indices by frame shape, in first-seen order."""
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, image in enumerate(images):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(
                f"images[{i}]: expected a uint8 (H, W, 3) BGR frame, got {image.dtype} {image.shape}"
            )
        groups.setdefault(tuple(image.shape), []).append(i)
    return groups


def _fill(block: torch.Tensor, images: Sequence[npt.NDArray[np.uint8]]) -> list[torch.Tensor]:
    """Stack ``images`` into ``block`` (flat uint8) by shape group; views of ``block`` in input order."""
    views: list[torch.Tensor | None] = [None] * len(images)
    offset = 0
    for shape, indices in _groups(images).items():
        n = len(indices) * int(np.prod(shape))
        group = block[offset : offset + n].view(len(indices), *shape)
        np.stack([images[i] for i in indices], out=group.numpy())
        for k, i in enumerate(indices):
            views[i] = group[k]
        offset += n
    return [v for v in views if v is not None]


class Uploader:
    """Copies frame batches to ``device``; on CUDA through alternating pinned buffers on a copy stream."""

    def __init__(self, device: torch.device, buffers: int = 2) -> None:
        if buffers < 1:
            raise ValueError(f"buffers must be at least 1, got {buffers}")
        self.device = device
        self._cuda = device.type == "cuda"
        stream = torch.cuda.Stream(device) if self._cuda else None  # type: ignore[no-untyped-call]
        self._stream = stream
        self._pinned: list[torch.Tensor | None] = [None] * buffers
        self._events: list[Any] = [None] * buffers
        self._turn = 0

    def upload(self, images: Sequence[npt.NDArray[np.uint8]]) -> Uploaded:
        """Start copying ``images`` to the device; returns at once on CUDA (the copy runs on)."""
        if not images:
            raise ValueError("upload needs at least one frame")
        nbytes = sum(int(image.nbytes) for image in images)
        if not self._cuda:
            block = torch.empty(nbytes, dtype=torch.uint8)
            return Uploaded(tuple(_fill(block, images)), block)
        return self._upload_cuda(images, nbytes)

    def _upload_cuda(self, images: Sequence[npt.NDArray[np.uint8]], nbytes: int) -> Uploaded:
        turn, self._turn = self._turn, (self._turn + 1) % len(self._pinned)
        if self._events[turn] is not None:
            self._events[turn].synchronize()  # this buffer's previous copy has left it
        host = self._pinned[turn]
        if host is None or host.numel() < nbytes:
            host = self._pinned[turn] = torch.empty(nbytes, dtype=torch.uint8, pin_memory=True)
        host_views = _fill(host[:nbytes], images)
        done = torch.cuda.Event()  # type: ignore[no-untyped-call]
        with torch.cuda.stream(self._stream):
            block = host[:nbytes].to(self.device, non_blocking=True)
            done.record()
        self._events[turn] = done
        base = host.data_ptr()
        frames = tuple(_same_view(block, v, base) for v in host_views)
        return Uploaded(frames, block, done)

    def ready(self, uploaded: Uploaded) -> tuple[torch.Tensor, ...]:
        """The frames, usable on the current stream (which waits for the copy on the GPU)."""
        if uploaded.done is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(uploaded.done)
            uploaded.block.record_stream(current)
        return uploaded.frames


def _same_view(block: torch.Tensor, host_view: torch.Tensor, host_base: int) -> torch.Tensor:
    """The view of device ``block`` at the same place and shape as ``host_view`` in the host buffer."""
    start = host_view.data_ptr() - host_base
    return block[start : start + host_view.numel()].view(host_view.shape)


def pipelined(
    items: Iterable[T], stage: Callable[[T], S], launch: Callable[[S], L], finish: Callable[[L], R]
) -> Iterator[R]:
    """``finish(launch(stage(item)))`` for each item, with item N+1 staged before N is finished."""
    iterator = iter(items)
    try:
        staged = stage(next(iterator))
    except StopIteration:
        return
    for item in iterator:
        launched = launch(staged)
        staged = stage(item)
        yield finish(launched)
    yield finish(launch(staged))
