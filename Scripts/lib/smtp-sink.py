#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd): one plain port and one STARTTLS port that requires
AUTH PLAIN (user "vpp", password "s3cret") after TLS. Every message is written as a file into OUTDIR.

Usage: smtp-sink.py OUTDIR PLAIN_PORT TLS_PORT CERT KEY
"""
import asyncio, os, ssl, sys, time, uuid
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

outdir, plain_port, tls_port, cert, key = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]


class Save:
    async def handle_DATA(self, server, session, envelope):
        name = os.path.join(outdir, f"{time.time():.6f}-{uuid.uuid4().hex}.eml")
        with open(name + ".tmp", "wb") as fh:
            fh.write(f"X-Envelope-From: {envelope.mail_from}\r\n".encode())
            fh.write(f"X-Envelope-To: {','.join(envelope.rcpt_tos)}\r\n".encode())
            fh.write(f"X-Authenticated: {getattr(session, 'authenticated', False)}\r\n".encode())
            fh.write(f"X-TLS: {session.ssl is not None}\r\n".encode())
            fh.write(envelope.original_content)
        os.rename(name + ".tmp", name)
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == b"vpp" and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd then answers 535 itself


context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
context.load_cert_chain(cert, key)
plain = Controller(Save(), hostname="127.0.0.1", port=plain_port)
secure = Controller(Save(), hostname="127.0.0.1", port=tls_port, tls_context=context, require_starttls=True,
                    authenticator=authenticator, auth_required=True, auth_require_tls=True)
plain.start()
secure.start()
print("ready", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    pass
