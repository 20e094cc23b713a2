"""A real SMTP server for Mimi's email tests (aiosmtpd): STARTTLS or implicit TLS, AUTH required,
every accepted message saved in --out as N.eml, with N.json: the envelope recipients, the headers
and the decoded text and HTML parts (parsed by Python's email package).

    python smtp_server.py --port P --cert leaf.pem --key leaf.key --mode starttls|implicit \
        --out DIR --user mimi --password secret

Prints READY once it accepts connections; runs until killed."""

import argparse
import email
import email.policy
import itertools
import json
import os
import ssl
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Saver:
    def __init__(self, out):
        self.out = out
        self.n = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        n = next(self.n)
        raw = envelope.original_content or envelope.content
        with open(os.path.join(self.out, f"{n}.eml"), "wb") as f:
            f.write(raw)
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() != "multipart":
                parts[part.get_content_type()] = part.get_content()
        summary = {
            "rcpt": envelope.rcpt_tos,
            "auth": session.authenticated,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "headers": {k.lower(): str(v) for k, v in msg.items()},
            "content_type": msg.get_content_type(),
            "parts": parts,
        }
        tmp = os.path.join(self.out, f"{n}.json.tmp")
        with open(tmp, "w") as f:
            json.dump(summary, f)
        os.rename(tmp, os.path.join(self.out, f"{n}.json"))
        return "250 Message accepted for delivery"


def main():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--mode", choices=["starttls", "implicit"], default="starttls")
    p.add_argument("--out", required=True)
    p.add_argument("--user", default="mimi")
    p.add_argument("--password", default="secret")
    a = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == a.user.encode() \
            and auth_data.password == a.password.encode()
        return AuthResult(success=ok, handled=False)

    kwargs = dict(hostname="127.0.0.1", port=a.port, authenticator=authenticator, auth_required=True)
    if a.mode == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    else:
        # The whole connection is TLS; aiosmtpd only counts STARTTLS for auth_require_tls.
        kwargs.update(ssl_context=ctx, auth_require_tls=False)
    controller = Controller(Saver(a.out), **kwargs)
    controller.start()
    print("READY", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
