#!/usr/bin/env bash
# Two secbot replicas on one PostgreSQL behind one nginx, as deploy/compose.yaml describes,
# from images built here (secbot's Containerfile, and deploy/ci's PostgreSQL and nginx from
# Debian's packages on the debootstrap base: no registry pulls). Then the issue-18 check:
# CHANNELS Slack channels subscribe to a daily tip due in a minute or two; when a quarter of
# the tips have reached the fake Slack Web API (deploy/ci/fake_slack.py, which records every
# chat.postMessage), the replica that sent the most is killed (SIGKILL); the other must
# finish the fan-out, the killed one is started again, and every channel must have exactly
# one tip: none lost, none twice. Root on Debian 12, unattended; non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/podman-lib.sh
. deploy/podman-lib.sh
IMG=${IMG:-localhost/secbot:dev}
PG_IMG=localhost/secbot-ci-postgres:15 PROXY_IMG=localhost/secbot-ci-proxy:dev
CHANNELS=${CHANNELS:-300}
NET=secbot-ci P=secbot-ci
SIGNING_SECRET=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
PG_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PROXY_PORT=$(free_port) SLACK_PORT=$(free_port)
PROXY=http://127.0.0.1:$PROXY_PORT SLACK=http://127.0.0.1:$SLACK_PORT

images() {
  build_secbot "$IMG" .
  build_deploy_image "$PG_IMG" deploy/ci/postgres.Containerfile
  build_deploy_image "$PROXY_IMG" deploy/ci/nginx.Containerfile
}

down() {
  local c
  for c in proxy a b slack pg; do podman rm -f -t 0 "$P-$c" >/dev/null 2>&1 || true; done
  podman volume rm -f "$P-pg" >/dev/null 2>&1 || true
  podman network rm -f "$NET" >/dev/null 2>&1 || true
}

fail() {
  echo "FAILED: $*" >&2
  local c
  for c in a b proxy; do
    echo "-- $P-$c (last lines)" >&2
    podman logs "$P-$c" 2>&1 | tail -n 15 >&2 || true
  done
  exit 1
}

healthy() {  # healthy CONTAINER SECONDS: its HEALTHCHECK passes within that time
  local i
  for i in $(seq "$2"); do
    quiet_podman healthcheck run "$1" >/dev/null 2>&1 && return 0
    [ "$(podman inspect --format '{{.State.Running}}' "$1")" = true ] || return 1
    sleep 1
  done
  return 1
}

replica() {  # replica a|b: one secbot on the shared database, read-only root
  quiet_podman run -d --name "$P-$1" --network "$NET" --network-alias "secbot-$1" --read-only \
    -e SECBOT_DATABASE_URL="postgresql+asyncpg://secbot:$PG_PASSWORD@postgres:5432/secbot" \
    -e SLACK_BOT_TOKEN=xoxb-ci-not-a-real-token -e SLACK_SIGNING_SECRET="$SIGNING_SECRET" \
    -e SLACK_API_URL=http://fake-slack:8000/api/ -e SECBOT_ALLOWED_HOSTS=localhost \
    -e SECBOT_TIP_CONCURRENCY=4 -e SECBOT_LOG_FORMAT=json "$IMG" >/dev/null
}

up() {
  down
  trap down EXIT
  podman network create "$NET" >/dev/null
  quiet_podman run -d --name "$P-pg" --network "$NET" --network-alias postgres \
    -v "$P-pg:/var/lib/postgresql/data" -e POSTGRES_USER=secbot -e POSTGRES_DB=secbot \
    -e POSTGRES_PASSWORD="$PG_PASSWORD" "$PG_IMG" >/dev/null
  healthy "$P-pg" 60 || fail "PostgreSQL did not become ready"
  echo "postgres: ready"
  podman run -d --name "$P-slack" --network "$NET" --network-alias fake-slack --no-healthcheck \
    -v "$PWD/deploy/ci/fake_slack.py:/opt/fake_slack.py:ro" -e FAKE_SLACK_DELAY=0.05 \
    -p "127.0.0.1:$SLACK_PORT:8000" "$IMG" python3 /opt/fake_slack.py >/dev/null
  # One replica first: it brings the empty database's schema up to date on its own.
  replica a
  if ! healthy "$P-a" 120; then
    if podman logs "$P-a" 2>&1 | grep -q 'runs on SQLite only'; then
      podman logs "$P-a" 2>&1 | tail -n 3
      echo "SKIPPED: this secbot refuses PostgreSQL (the engine swap of issue 14 is not in it):"
      echo "the PostgreSQL and proxy images were built and PostgreSQL answered; nothing else ran."
      exit 0
    fi
    fail "replica a did not become ready on PostgreSQL"
  fi
  replica b
  healthy "$P-b" 120 || fail "replica b did not become ready"
  quiet_podman run -d --name "$P-proxy" --network "$NET" -p "127.0.0.1:$PROXY_PORT:8080" \
    "$PROXY_IMG" >/dev/null
  curl -fsS --retry 30 --retry-connrefused --retry-delay 1 -H 'Host: localhost' "$PROXY/readyz" \
    >/dev/null 2>&1 || fail "/readyz through the proxy did not answer 200"
  echo "replicas a and b ready on PostgreSQL; the proxy answers /readyz"
}

slash() {  # slash CHANNEL TEXT N: a signed /tip command through the proxy; prints the status
  local ts body sig text
  ts=$(date +%s)
  text=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$2")
  body="token=x&team_id=T0CI&team_domain=ci&channel_id=$1&channel_name=$1&user_id=U0CI&user_name=ci&command=%2Ftip&text=$text&response_url=http%3A%2F%2Ffake-slack%3A8000%2Fresponse%2F$3&trigger_id=$3.1"
  sig=$(printf 'v0:%s:%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$SIGNING_SECRET" -r | cut -d' ' -f1)
  curl -sS -o /dev/null -w '%{http_code}' -H 'Host: localhost' -H "X-Slack-Request-Timestamp: $ts" \
    -H "X-Slack-Signature: v0=$sig" -H 'Content-Type: application/x-www-form-urlencoded' \
    --data "$body" "$PROXY/slack/events"
}

tally() {  # tally FIELD: from the fake Slack's record (see deploy/ci/fake_slack.py)
  curl -fsS "$SLACK/calls" | python3 -c '
import collections, json, sys
calls = json.load(sys.stdin)
tips = [p for p in calls["posts"] if p["tip"]]
per = collections.Counter(p["channel"] for p in tips)
what = sys.argv[1]
if what == "answered":  # subscriptions answered: replies plus channel posts that are not tips
    print(calls["responses"] + sum(1 for p in calls["posts"] if not p["tip"]))
elif what == "tips":
    print(len(tips))
elif what == "channels":
    print(len(per))
elif what == "twice":
    print(sum(1 for n in per.values() if n > 1))
elif what == "top_peer":
    print(collections.Counter(p["peer"] for p in tips).most_common(1)[0][0])
elif what == "by_peer":
    print(dict(collections.Counter(p["peer"] for p in tips)))
' "$1"
}

ip_of() { podman inspect --format '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$1"; }

wait_for() {  # wait_for SECONDS FIELD MINIMUM
  local i
  for i in $(seq "$1"); do
    [ "$(tally "$2")" -ge "$3" ] && return 0
    sleep 1
  done
  return 1
}

fanout() {
  local due i code victim peer before
  due=$(TZ=Europe/London date -d '+2 min' +%H:%M)
  for i in $(seq "$CHANNELS"); do
    code=$(slash "$(printf 'C%06d' "$i")" "subscribe $due daily" "$i")
    [ "$code" = 200 ] || fail "subscribing channel $i got $code"
  done
  wait_for 120 answered "$CHANNELS" || fail "not every subscription was answered"
  [ "$(TZ=Europe/London date +%H:%M)" \< "$due" ] || fail "subscribing took past $due; try fewer CHANNELS"
  echo "$CHANNELS channels subscribed to a tip at $due (Europe/London)"
  wait_for 300 tips $((CHANNELS / 4)) || fail "the fan-out did not start"
  peer=$(tally top_peer)
  victim=$P-a
  [ "$peer" = "$(ip_of "$P-b")" ] && victim=$P-b
  before=$(tally tips)
  podman kill -s KILL "$victim" >/dev/null
  echo "killed $victim (SIGKILL) after $before of $CHANNELS tips; posts so far by sender: $(tally by_peer)"
  wait_for 300 channels "$CHANNELS" || fail "after the kill only $(tally channels) of $CHANNELS channels got their tip"
  quiet_podman start "$victim" >/dev/null
  healthy "$victim" 120 || fail "$victim did not come back"
  sleep 15  # time for a restarted replica to (wrongly) send anything again
  echo "tips: $(tally tips) posts to $(tally channels) channels, by sender $(tally by_peer)"
  [ "$(tally channels)" = "$CHANNELS" ] || fail "a channel lost its tip"
  [ "$(tally twice)" = 0 ] || fail "$(tally twice) channels got their tip twice"
  [ "$(tally tips)" = "$CHANNELS" ] || fail "more tips than channels"
  echo "every channel got its tip exactly once, across a replica killed mid-fan-out"
}

start=$SECONDS
step "apt tools + containers.conf" tools
step "base image (debootstrap + import)" base_image
step "hadolint (deploy/ci images)" "$(hadolint_bin)" deploy/ci/postgres.Containerfile deploy/ci/nginx.Containerfile
step "images" images
step "up: PostgreSQL, fake Slack, two replicas, proxy" up
step "fan-out with a replica killed" fanout
echo "== replicas check passed in $((SECONDS - start)) s"
