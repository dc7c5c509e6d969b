#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, ACGS Operations Team
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loopback SMTP server and HTTP receiver that record what Alertmanager sends.

SMTP (plain, no STARTTLS, no AUTH: what smtp_require_tls=false talks to) accepts every
mail; HTTP accepts every POST (webhooks and Slack-compatible incoming webhooks). Each
message is appended to OUT as one JSON line with the time it arrived:
  {"kind": "smtp", "time": ..., "from": ..., "to": [...], "subject": ..., "text": ...}
  {"kind": "http", "time": ..., "path": ..., "json": {...}}
Both listen on 127.0.0.1, on free ports written to READY_FILE once they listen. The
server stops when STOP_FILE appears or MAX_SECONDS pass.
"""
import argparse
import asyncio
import email
import email.policy
import http.server
import json
import os
import threading
import time

LOCK = threading.Lock()


def record(out, entry):
    entry["time"] = time.time()
    with LOCK:
        with open(out, "a") as handle:
            handle.write(json.dumps(entry, sort_keys=True) + "\n")


def parse_mail(data):
    message = email.message_from_bytes(data, policy=email.policy.default)
    text = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            text.append(part.get_content())
    html = [part.get_content() for part in message.walk() if part.get_content_type() == "text/html"]
    return {"subject": str(message.get("Subject", "")), "text": "\n".join(text), "has_html": bool(html),
            "header_to": str(message.get("To", ""))}


class SMTPSession(object):
    """The server side of RFC 5321, enough for a Go net/smtp client."""

    def __init__(self, out):
        self.out = out

    async def __call__(self, reader, writer):
        sender, recipients = None, []

        async def reply(line):
            writer.write(line.encode("ascii") + b"\r\n")
            await writer.drain()

        await reply("220 127.0.0.1 ESMTP acgs-test-sink")
        try:
            while True:
                line = await reader.readline()
                if not line:
                    break
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                verb = command.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    await reply("250-127.0.0.1")
                    await reply("250-8BITMIME")
                    await reply("250 SMTPUTF8")
                elif verb == "HELO":
                    await reply("250 127.0.0.1")
                elif verb == "MAIL":
                    sender = command.split(":", 1)[1].strip().split(" ")[0].strip("<>")
                    recipients = []
                    await reply("250 OK")
                elif verb == "RCPT":
                    recipients.append(command.split(":", 1)[1].strip().split(" ")[0].strip("<>"))
                    await reply("250 OK")
                elif verb == "DATA":
                    await reply("354 End data with <CR><LF>.<CR><LF>")
                    lines = []
                    while True:
                        data_line = await reader.readline()
                        if not data_line or data_line in (b".\r\n", b".\n"):
                            break
                        if data_line.startswith(b".."):
                            data_line = data_line[1:]
                        lines.append(data_line)
                    entry = {"kind": "smtp", "from": sender, "to": recipients}
                    entry.update(parse_mail(b"".join(lines)))
                    record(self.out, entry)
                    sender, recipients = None, []
                    await reply("250 OK: queued")
                elif verb == "RSET":
                    sender, recipients = None, []
                    await reply("250 OK")
                elif verb == "NOOP":
                    await reply("250 OK")
                elif verb == "QUIT":
                    await reply("221 Bye")
                    break
                else:
                    await reply("502 Command not implemented")
        finally:
            writer.close()


def http_handler(out):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                payload = json.loads(body.decode("utf-8"))
            except ValueError:
                payload = {"raw": body.decode("utf-8", "replace")}
            record(out, {"kind": "http", "path": self.path, "json": payload})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass
    return Handler


async def serve(args):
    open(args.out, "a").close()
    smtp = await asyncio.start_server(SMTPSession(args.out), "127.0.0.1", 0)
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http_handler(args.out))
    threading.Thread(target=web.serve_forever, daemon=True).start()
    ready = {"pid": os.getpid(), "smtp_port": smtp.sockets[0].getsockname()[1],
             "http_port": web.server_address[1], "started": time.time()}
    with open(args.ready_file + ".tmp", "w") as handle:
        json.dump(ready, handle)
    os.rename(args.ready_file + ".tmp", args.ready_file)
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline and not os.path.exists(args.stop_file):
        await asyncio.sleep(0.2)
    smtp.close()
    web.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    args = parser.parse_args()
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
