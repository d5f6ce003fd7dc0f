"""A real HTTP server on 127.0.0.1 serving files with injected faults.

Faults per path (each for the first ``n`` requests unless said otherwise):
  drop:    {"n": 1, "after": bytes}  close the connection after that many body bytes
  errors:  {"n": 3, "status": 500}   answer with an error status
  inflate: extra                     always announce ``extra`` more bytes than exist
  stall:   {"n": 1, "seconds": 2}    wait that long before answering (a client time-out)
It records every request (method, path, Range) and the body bytes sent per path.
"""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FaultyServer:
    def __init__(self, files: dict[str, bytes], faults: dict[str, dict] | None = None):
        self.files = files
        self.faults = faults or {}
        self.requests: list[tuple[str, str, str | None]] = []
        self._sent: dict[str, int] = {}
        self._busy = 0  # requests whose handler has not finished its bookkeeping
        self.lock = threading.Condition()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_HEAD(self):
                server.handle(self, body=False)

            def do_GET(self):
                server.handle(self, body=True)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def _take(self, name: str, kind: str) -> dict | None:
        with self.lock:
            fault = self.faults.get(name, {}).get(kind)
            if fault and fault.get("n", 0) > 0:
                fault["n"] -= 1
                return fault
        return None

    @property
    def sent(self) -> dict[str, int]:
        """Body bytes sent per path, once every request already received is answered: a client can read
        the last byte before the handler thread has counted it."""
        with self.lock:
            if not self.lock.wait_for(lambda: self._busy == 0, timeout=10):
                raise TimeoutError("a request to the test server is still being answered")
            return dict(self._sent)

    def handle(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        with self.lock:
            self._busy += 1
        try:
            self._answer(handler, body)
        finally:
            with self.lock:
                self._busy -= 1
                self.lock.notify_all()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        name = handler.path.lstrip("/")
        range_header = handler.headers.get("Range")
        with self.lock:
            self.requests.append((handler.command, name, range_header))
        if name not in self.files:
            handler.send_error(404)
            return
        if body and (stall := self._take(name, "stall")):
            time.sleep(stall["seconds"])
        if body and (error := self._take(name, "errors")):
            handler.send_error(error["status"])
            return
        data = self.files[name]
        announced = len(data) + self.faults.get(name, {}).get("inflate", 0)
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", range_header or "")
        if match and body:
            start = int(match.group(1))
            if start >= announced or start >= len(data):
                handler.send_response(416)
                handler.send_header("Content-Range", f"bytes */{announced}")
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{announced - 1}/{announced}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(announced - start))
        handler.send_header("Accept-Ranges", "bytes")
        handler.end_headers()
        if not body:
            return
        chunk = data[start:]
        if drop := self._take(name, "drop"):
            chunk = chunk[: drop["after"]]
        try:
            handler.wfile.write(chunk)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return
        with self.lock:
            self._sent[name] = self._sent.get(name, 0) + len(chunk)
        if drop or len(chunk) < announced - start:
            handler.close_connection = True
