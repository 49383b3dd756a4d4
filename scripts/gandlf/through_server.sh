#!/usr/bin/env bash
# The GaNDLF model's MLCube through medval's CLI and server, as a model owner and a
# hospital would use it, on the imaging benchmark (issue 15; docs/gandlf.md, "Works:
# through medval's CLI and server").
#
#   scripts/gandlf/through_server.sh [WORK] [CUBE] [WHEELS] [PORT]
#
#   WORK    a new folder for the demo, the server and the new vendor's client
#           (default /tmp/gl-server/script); its demo/ is emptied by the demo
#   CUBE    the GaNDLF MLCube folder, mlcube.yaml + workspace (scripts/gandlf_cube.sh;
#           default /tmp/gandlf-cube); its image must be in Podman
#   WHEELS  the folder of `make imaging-wheels` (default: this checkout's .imaging-wheels)
#   PORT    where the demo's server is served again (default 8000; must be free)
#   MEDVAL  env: the medval CLI (default: this checkout's .venv/bin/medval)
#
# Each step prints its wall time and the load average after it. Left on disk (remove
# WORK when done): the server's blobs (the image archive, about 2.4 GB) and the
# hospital's cached copy of it (another 2.4 GB); the model owner's copy is freed.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=${1:-/tmp/gl-server/script}
CUBE=${2:-/tmp/gandlf-cube}
WHEELS=${3:-$ROOT/.imaging-wheels}
PORT=${4:-8000}
MEDVAL=${MEDVAL:-$ROOT/.venv/bin/medval}
SERVER=http://127.0.0.1:$PORT
# The demo's accounts share this password (medval.demo.actors.DEMO_PASSWORD).
DEMO_PASSWORD=demo-password-not-secret
VENDOR=vendor-gandlf
VENDOR_PASSWORD=gandlf-vendor-password-not-secret
MODEL_NAME=gandlf-brain-unet
CLIENTS=$WORK/demo/clients
VENDOR_HOME=$WORK/clients/$VENDOR
HOSPITAL_HOME=$CLIENTS/hospital-colin27

if curl -s -o /dev/null "$SERVER/api/v1/health"; then
    echo "something already answers on port $PORT: give another PORT" >&2
    exit 2
fi
mkdir -p "$WORK/clients" "$WORK/logs"

# Run one step: its name, then the command; say its wall time and the load after it.
step() {
    local name=$1
    shift
    local start
    start=$(date +%s.%N)
    echo "== $name: $*" >&2
    "$@"
    local end
    end=$(date +%s.%N)
    printf '== %s: %.1f s wall; %s\n' "$name" "$(echo "$end - $start" | bc)" \
        "$(uptime | sed 's/.*load average/load average/')" >&2
}

# as_person CLIENT_HOME medval-arguments...: one person's command on their own client.
as_person() {
    local home=$1
    shift
    MEDVAL_HOME=$home "$MEDVAL" "$@"
}

echo "== start $(date -u +%FT%TZ); $(uptime | sed 's/.*load average/load average/')" >&2

# 1. The imaging benchmark played whole (committee, two hospitals, a vendor) against an
#    embedded server; it leaves the server's folder and each person's client folder.
step demo "$MEDVAL" demo --imaging --workdir "$WORK/demo" --wheels "$WHEELS" \
    >"$WORK/logs/demo.out"
tail -n 3 "$WORK/logs/demo.out" >&2

# 2. Serve the demo's server again (its SQLite database and blobs).
MEDVAL_SERVER_DATA_DIR=$WORK/demo/server "$MEDVAL" server start --host 127.0.0.1 \
    --port "$PORT" >"$WORK/logs/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 60); do
    curl -s -o /dev/null "$SERVER/api/v1/health" && break
    sleep 1
done
curl -s -o /dev/null "$SERVER/api/v1/health"

# 3. Log the demo's people in again: a stored login names the embedded server's port, and
#    logged-in commands use the stored login's server (MEDVAL_SERVER does not move them).
for person in admin committee hospital-colin27; do
    echo "$DEMO_PASSWORD" | as_person "$CLIENTS/$person" login --server "$SERVER" -u "$person" \
        --password-stdin
done

# 4. The admin gives the GaNDLF model's owner an account; the owner logs in on their own
#    client (which makes their signing key).
echo "$VENDOR_PASSWORD" | as_person "$CLIENTS/admin" users create "$VENDOR" --password-stdin \
    >/dev/null
echo "$VENDOR_PASSWORD" | as_person "$VENDOR_HOME" login --server "$SERVER" -u "$VENDOR" \
    --password-stdin

BENCHMARK=$(as_person "$CLIENTS/committee" benchmark list -f json \
    | jq -r '.[] | select(.name == "brain-mask-t1") | .id')

# 5. The model owner registers the cube: medval saves the Podman image by its ID, uploads
#    the archive as a blob and pins the image ID and the archive's SHA-256.
step register as_person "$VENDOR_HOME" --runner podman model register "$CUBE" \
    --name "$MODEL_NAME" -f json >"$WORK/logs/register.json"
MODEL=$(jq -r .id "$WORK/logs/register.json")
jq '{id, name, image_digest, image_archive_hash}' "$WORK/logs/register.json" >&2

# 6. The model owner asks to join: the compatibility test runs the benchmark's preparation
#    cube, the GaNDLF cube (from the registered archive) and the evaluator on the
#    committee's demo data, then the request is sent.
step associate as_person "$VENDOR_HOME" --runner podman model associate "$MODEL" \
    --benchmark "$BENCHMARK" --yes
# The owner no longer needs its downloaded copy of the image archive.
as_person "$VENDOR_HOME" storage clean --area cubes --yes >/dev/null

# 7. The committee approves the request.
ASSOCIATION=$(as_person "$CLIENTS/committee" association list --benchmark "$BENCHMARK" \
    --status pending -f json \
    | jq -r --argjson m "$MODEL" '.[] | select(.kind == "model" and .entity_id == $m) | .id')
step approve as_person "$CLIENTS/committee" association approve "$ASSOCIATION" --yes

# 8. The hospital of the colin27 site runs the model on its prepared data (the image
#    archive downloaded, checked against its hash, run by its ID under Podman), then the
#    evaluator; the result stays local until it is uploaded.
step run as_person "$HOSPITAL_HOME" --runner podman run --benchmark "$BENCHMARK" \
    --model "$MODEL" --yes -f json >"$WORK/logs/run.json"
KEY=$(jq -r '.[0].key' "$WORK/logs/run.json")
jq '.[0] | {key, outcome, document}' "$WORK/logs/run.json" >&2
test "$(jq -r '.[0].outcome' "$WORK/logs/run.json")" = succeeded

# 9. The hospital reviews and uploads the result (signed).
step upload as_person "$HOSPITAL_HOME" results upload "$KEY" --yes >"$WORK/logs/upload.json"

# 10. The leaderboard, as the committee sees it: the GaNDLF model beside the others.
step leaderboard as_person "$CLIENTS/committee" benchmark leaderboard "$BENCHMARK"

echo "== done $(date -u +%FT%TZ); on disk: $(du -sh "$WORK" | cut -f1) in $WORK" >&2
