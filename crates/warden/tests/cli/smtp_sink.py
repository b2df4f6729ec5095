"""An SMTP server for Warden's CLI tests (aiosmtpd, from PyPI).

Listens on 127.0.0.1:PORT and writes each message it accepts into DIR, one file per message
(`<pid>-<n>.msg`, written whole then renamed), with what the message itself does not show on top:
the envelope, the login used and whether the connection was encrypted. So a test can read and
count what arrived. Prints "ready" once it accepts connections, then runs until killed.

    python3 smtp_sink.py --port PORT --dir DIR [--starttls | --tls] [--cert PEM --key PEM]
                         [--login NAME --password SECRET]
"""

import argparse
import itertools
import os
import ssl
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.numbers = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.numbers)
        login = ""
        if isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        top = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Login: {login}\r\n"
            f"X-Encrypted: {'yes' if server.transport.get_extra_info('sslcontext') else 'no'}\r\n"
        ).encode()
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        name = f"{os.getpid()}-{n}"
        tmp = os.path.join(self.directory, f".{name}.tmp")
        with open(tmp, "wb") as f:
            f.write(top + content)
        os.rename(tmp, os.path.join(self.directory, f"{name}.msg"))
        return "250 2.0.0 Stored as message " + str(n)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--dir", required=True)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--starttls", action="store_true")
    mode.add_argument("--tls", action="store_true")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--login")
    p.add_argument("--password")
    args = p.parse_args()

    options = {}
    if args.starttls or args.tls:
        # A context usable on both sides: the controller's own start-up probe connects with it.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if args.starttls else ssl.PROTOCOL_TLS)
        context.load_cert_chain(args.cert, args.key)
        if args.starttls:
            options.update(tls_context=context, require_starttls=True)
        else:
            options.update(ssl_context=context)
    if args.login:
        expected = (args.login.encode(), args.password.encode())

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and (auth_data.login, auth_data.password) == expected
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        # aiosmtpd counts only STARTTLS as TLS for AUTH; implicit TLS is encrypted throughout.
        options.update(
            authenticator=authenticator, auth_required=True, auth_require_tls=not args.tls
        )

    controller = Controller(
        Sink(args.dir), hostname="127.0.0.1", port=args.port, ready_timeout=20, **options
    )
    controller.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
