"""A real HTTP MJPEG camera for tests: ``multipart/x-mixed-replace`` JPEG parts at a steady rate."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2

from tests.ingest.clips import clip_image

BOUNDARY = "ioc-frame"


class MjpegServer:
    """Serves ``http://127.0.0.1:<port>/video.mjpg`` from a background thread until ``close()``."""

    def __init__(self, *, fps: float = 10.0, width: int = 320, height: int = 240) -> None:
        self.fps, self.width, self.height = fps, width, height
        self._closed = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="mjpeg-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/video.mjpg"

    def close(self) -> None:
        self._closed.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                if self.path != "/video.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                server._stream(self)

        return Handler

    def _stream(self, handler: BaseHTTPRequestHandler) -> None:
        index = 0
        while not self._closed.wait(1.0 / self.fps):
            ok, jpeg = cv2.imencode(".jpg", clip_image(index, self.width, self.height))
            assert ok
            head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
            try:
                handler.wfile.write(head.encode() + jpeg.tobytes() + b"\r\n")
                handler.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return
            index += 1
