# Sourced by Scripts/test.sh: starts the real SMTP server the mail tests talk to (aiosmtpd from PyPI,
# installed when missing), with a throwaway CA-signed certificate for STARTTLS. Exports
# VPP_TEST_SMTP_PLAIN, VPP_TEST_SMTP_TLS (host:port), VPP_TEST_SMTP_DIR (delivered messages) and
# VPP_TEST_SMTP_CA (the certificate to trust). Needs: log().

if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
  log "installing aiosmtpd (pip)"
  python3 -m pip install -q aiosmtpd >/dev/null 2>&1 || python3 -m pip install -q --break-system-packages aiosmtpd
fi
SMTP_WORK=$(mktemp -d /tmp/vpp-smtp.XXXXXX)
mkdir -p "$SMTP_WORK/mail"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$SMTP_WORK/key.pem" -out "$SMTP_WORK/cert.pem" >/dev/null 2>&1
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
SMTP_PLAIN_PORT=$(free_port)
SMTP_TLS_PORT=$(free_port)
python3 Scripts/lib/smtp-sink.py "$SMTP_WORK/mail" "$SMTP_PLAIN_PORT" "$SMTP_TLS_PORT" "$SMTP_WORK/cert.pem" "$SMTP_WORK/key.pem" \
  >"$SMTP_WORK/sink.log" 2>&1 &
SMTP_PID=$!
for _ in $(seq 100); do grep -q ready "$SMTP_WORK/sink.log" 2>/dev/null && break; sleep 0.1; done
grep -q ready "$SMTP_WORK/sink.log" || { cat "$SMTP_WORK/sink.log"; exit 1; }
log "SMTP server on 127.0.0.1:$SMTP_PLAIN_PORT (plain) and :$SMTP_TLS_PORT (STARTTLS + AUTH)"
export VPP_TEST_SMTP_PLAIN="127.0.0.1:$SMTP_PLAIN_PORT" VPP_TEST_SMTP_TLS="127.0.0.1:$SMTP_TLS_PORT"
export VPP_TEST_SMTP_DIR="$SMTP_WORK/mail" VPP_TEST_SMTP_CA="$SMTP_WORK/cert.pem"

stop_smtp() {
  kill "$SMTP_PID" 2>/dev/null || true
  wait "$SMTP_PID" 2>/dev/null || true
  rm -rf "$SMTP_WORK"
}
