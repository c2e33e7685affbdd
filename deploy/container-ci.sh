#!/usr/bin/env bash
# Build secbot's image with podman, lint it, run it with a read-only root and a data volume,
# and check it from outside: /readyz answers 200, the web chat page loads and answers a
# signed-in person, a signed Slack request gets its ack, it runs as non-root, its
# HEALTHCHECK passes and it stops cleanly. Root on Debian 12, unattended; exits non-zero on
# any failure. Nothing is pulled from a registry: the base image comes from debootstrap.
# IMG names the image (default localhost/secbot:dev); KEEP_IMAGE=0 removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/podman-lib.sh
. deploy/podman-lib.sh
IMG=${IMG:-localhost/secbot:dev}
NAME=secbot-smoke VOLUME=secbot-smoke-data
SIGNING_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

lint() {
  "$(hadolint_bin)" Containerfile
}

build() {
  build_secbot "$IMG" .
}

cleanup() {
  podman rm -f -t 0 "$NAME" >/dev/null 2>&1 || true
  podman volume rm -f "$VOLUME" >/dev/null 2>&1 || true
}

fail() {
  echo "FAILED: $*" >&2
  podman logs "$NAME" 2>&1 | tail -n 30 >&2 || true
  exit 1
}

smoke() {
  cleanup
  trap cleanup EXIT
  local port users secret out ts body sig
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  # A web chat user made by the image itself: its secret, and the users-file line.
  out=$(podman run --rm --read-only --network none --no-healthcheck "$IMG" secbot webchat-user ci CI Person)
  secret=$(sed -n 's/^Secret for .*: //p' <<<"$out")
  users="$WORK/webchat-users"
  tail -n 1 <<<"$out" >"$users"
  chmod 0644 "$users"
  # Read-only root; the database on a named volume; Slack on, its Web API at a closed port
  # (the ack does not wait for Slack).
  # No systemd here to run the HEALTHCHECK on a timer: it is run below by hand.
  quiet_podman run -d --name "$NAME" --read-only -v "$VOLUME:/data" \
    -v "$users:/etc/secbot/webchat-users:ro" \
    -e SECBOT_WEBCHAT_USERS_FILE=/etc/secbot/webchat-users -e SECBOT_ALLOWED_HOSTS=localhost \
    -e SLACK_BOT_TOKEN=xoxb-ci-not-a-real-token -e SLACK_SIGNING_SECRET="$SIGNING_SECRET" \
    -e SLACK_API_URL=http://127.0.0.1:9/api/ -e SECBOT_LOG_FORMAT=json \
    -p "127.0.0.1:$port:3978" "$IMG" >/dev/null
  local url="http://127.0.0.1:$port"
  curl -fsS --retry 60 --retry-connrefused --retry-delay 1 -H 'Host: localhost' "$url/readyz" \
    >"$WORK/readyz" 2>/dev/null || fail "/readyz did not answer 200"
  echo "/readyz: $(cat "$WORK/readyz")"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "$url/readyz")" = 421 ] \
    || fail "a foreign Host header was not refused"
  curl -fsS -H 'Host: localhost' "$url/" | grep -q '<title>' || fail "the web chat page did not load"
  curl -fsS -H 'Host: localhost' "$url/webchat/static/app.js" >/dev/null \
    || fail "the web chat script did not load"
  out=$(curl -fsS -H 'Host: localhost' -H "Authorization: Bearer $secret" \
    -H 'Content-Type: application/json' \
    -d '{"conversation": "ci", "request_id": "r1", "text": "help"}' "$url/webchat/api/send") \
    || fail "the web chat did not take a message"
  grep -q '"ok": true' <<<"$out" || fail "the web chat refused a message: $out"
  for _ in $(seq 30); do
    out=$(curl -fsS -H 'Host: localhost' -H "Authorization: Bearer $secret" \
      "$url/webchat/api/messages?conversation=ci") || fail "the web chat did not list messages"
    grep -q '/quiz\|quiz' <<<"$out" && break
    sleep 1
  done
  grep -q quiz <<<"$out" || fail "the web chat did not answer help: $out"
  echo "web chat: page 200, help answered for a signed-in person"
  ts=$(date +%s)
  body="token=x&team_id=T0CI&team_domain=ci&channel_id=C0CI&channel_name=ci&user_id=U0CI&user_name=ci&command=%2Ftip&text=&response_url=http%3A%2F%2F127.0.0.1%3A9%2Fresponse&trigger_id=1.2.3"
  sig=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SIGNING_SECRET" -r | cut -d' ' -f1)
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: localhost' \
    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: v0=$sig" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "$body" "$url/slack/events")" = 200 ] \
    || fail "the signed Slack request got no ack"
  [ "$(curl -sS -o /dev/null -w '%{http_code}' -H 'Host: localhost' \
    -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: v0=${sig/a/b}0" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "$body" "$url/slack/events")" != 200 ] \
    || fail "a badly signed Slack request was acknowledged"
  echo "slack: signed /tip acknowledged (200), a bad signature refused"
  [ "$(podman exec "$NAME" id -u)" = 10001 ] || fail "not running as uid 10001"
  podman exec "$NAME" sh -c 'touch /opt/venv/x' 2>/dev/null && fail "the root file system is writable"
  podman healthcheck run "$NAME" || fail "the image's HEALTHCHECK failed"
  echo "uid 10001, root file system read-only, HEALTHCHECK healthy"
  quiet_podman stop -t 20 "$NAME" >/dev/null
  [ "$(podman inspect --format '{{.State.ExitCode}}' "$NAME")" = 0 ] || fail "did not stop cleanly"
  echo "stopped cleanly (exit 0)"
}

start=$SECONDS
step "apt tools + containers.conf" tools
step "base image (debootstrap + import)" base_image
step "hadolint" lint
step "build $IMG" build
step "run read-only + checks" smoke
[ "${KEEP_IMAGE:-1}" = 1 ] || podman rmi -f "$IMG" >/dev/null
echo "== container check passed in $((SECONDS - start)) s"
