"""A tiny SMTP receiver on loopback for tests: it accepts every message and keeps it.

Speaks just enough SMTP (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for ``smtplib``.

    sink = SmtpSink.start()        # 127.0.0.1, any free port
    sink.port; sink.messages       # [(mail_from, [rcpt...], raw bytes)]
    sink.stop()
"""

from __future__ import annotations

import socketserver
import threading


class _Handler(socketserver.StreamRequestHandler):
    server: _Server

    def _say(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        self._say("220 sandbox SMTP ready")
        sender, recipients = "", []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            command = line.decode(errors="replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self._say("250 sandbox")
            elif verb == "MAIL":
                sender, recipients = command.partition(":")[2].strip(" <>"), []
                self._say("250 OK")
            elif verb == "RCPT":
                recipients.append(command.partition(":")[2].strip(" <>"))
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                data = bytearray()
                while True:
                    chunk = self.rfile.readline()
                    if not chunk or chunk in (b".\r\n", b".\n"):
                        break
                    data += chunk
                with self.server.lock:
                    self.server.messages.append((sender, recipients, bytes(data)))
                self._say("250 OK: queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:  # RSET, NOOP and anything else
                self._say("250 OK")


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler)
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.lock = threading.Lock()


class SmtpSink:
    """A running sink; ``messages`` holds what it received."""

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server, self._thread = server, thread

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> SmtpSink:
        server = _Server((host, port))
        thread = threading.Thread(target=server.serve_forever, name="smtp-sink", daemon=True)
        thread.start()
        return cls(server, thread)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def messages(self) -> list[tuple[str, list[str], bytes]]:
        with self._server.lock:
            return list(self._server.messages)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
