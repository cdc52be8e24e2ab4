"""A real SMTP server for the e-mail tests: aiosmtpd on 127.0.0.1:PORT.

Prints READY once it listens, then one JSON line per received message
({"from", "to", "subject", "body"}, the plain-text body decoded as a mail client would),
and stops when its standard input closes.

Usage: python sink.py PORT
"""

import email
import json
import sys
from email import policy

from aiosmtpd.controller import Controller


class Handler:
    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        part = message.get_body(preferencelist=("plain",))
        body = part.get_content() if part is not None else ""
        record = {
            "from": envelope.mail_from,
            "to": envelope.rcpt_tos,
            "subject": str(message["subject"]),
            "body": body,
        }
        print(json.dumps(record), flush=True)
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
