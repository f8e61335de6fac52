#!/usr/bin/env bash
# Builds the Dockerfile and runs docker-compose.yml for real, then runs the README's
# "Run it in docker-compose" section verbatim: the code blocks after its
# `<!-- readme-test:compose -->` and `<!-- readme-test:compose-flow -->` markers are extracted
# from README.md and run as written, so the README and this test cannot drift apart.
#
#   ./scripts/container-test.sh        (as root; scripts/test.sh runs it last)
#
# There is no Docker engine and no reachable container registry here, so (see
# ../shared/container/README.md for how this was worked out):
# - the engine is Podman (Debian's), and `docker` is the docker CLI talking to
#   `podman system service`'s Docker-compatible API; `docker compose` is Docker Compose v2,
#   built from source through the Go module proxy into a cache (about 2 minutes, once);
# - the two base images, debian:bookworm-slim and golang:1.26-bookworm, are made locally
#   (debootstrap; the host's Go and gcc) and cached in Podman's storage.
# What it checks: the image (HEALTHCHECK kept, runs as payscore 10001:10001), then the README:
# `up -d --wait`, the example-merchant flow, the scenario library twice, the flow again,
# `docker stop` exiting 0, `down -v`. Every step prints PASS or FAIL; the summary lists them and
# the script exits 1 if one failed (2 if the set-up itself failed). It removes what it started
# (containers, the compose network and volumes, the project's image) and keeps the caches.
# Needs 127.0.0.1:8080 and 127.0.0.1:8081 free.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

CACHE=${PAYSCORE_SIM_CONTAINER_CACHE:-/var/cache/payscore-sim-container}
WORK=$ROOT/.cache/container                 # logs, the podman socket, extracted README blocks
COMPOSE_VERSION=v2.40.3
SOCK=$WORK/podman.sock
export DOCKER_HOST=unix://$SOCK
export DOCKER_CONFIG=$CACHE/docker-config   # where the docker CLI finds the compose plugin
export COMPOSE_PROJECT_NAME=payscore-sim-container-test
# Compose's default builder is BuildKit, whose image comes from Docker Hub: use the API's
# classic builder (Podman's /build), which keeps HEALTHCHECK with the docker image format.
export DOCKER_BUILDKIT=0 COMPOSE_BAKE=false BUILDAH_FORMAT=docker

T0=$(date +%s)
RESULTS=()
FAILED=0
mkdir -p "$WORK" "$CACHE"
log() { printf '\n=== [%4ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
# check NAME COMMAND...: runs the command, prints and records PASS or FAIL with its time.
check() {
	local name=$1 s rc
	shift
	s=$(date +%s)
	"$@"
	rc=$?
	local line
	if [ $rc -eq 0 ]; then line="PASS  $(($(date +%s) - s))s  $name"; else
		line="FAIL  $(($(date +%s) - s))s  $name (exit $rc)"
		FAILED=1
	fi
	echo "$line"
	RESULTS+=("$line")
}
summary() {
	log "container test summary (total $(($(date +%s) - T0))s)"
	printf '%s\n' "${RESULTS[@]}"
	local passed failed
	passed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^PASS')
	failed=$(printf '%s\n' "${RESULTS[@]}" | grep -c '^FAIL')
	echo "container: $passed passed, $failed failed"
}
die() {
	echo "FATAL: $*" >&2
	summary
	exit 2
}

# ---------------------------------------------------------------------------------------------
log "packages: podman, runc, debootstrap, jq, curl"
missing=()
for cmd in podman runc debootstrap jq curl; do command -v $cmd >/dev/null || missing+=("$cmd"); done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq && apt-get install -y -qq "${missing[@]}" >"$WORK/apt.log" 2>&1 ||
		die "apt-get install ${missing[*]} (see $WORK/apt.log)"
fi
podman --version

# This sandbox, not the project, needs these (each found by trying; a developer's Docker does
# not): container ulimits within the machine's hard limits (root lacks CAP_SYS_RESOURCE, and
# podman caps its own nproc at 32768); runc, since crun refuses the mixed cgroup v1/v2 set-up;
# no systemd, so events go to a file.
nofile=$(ulimit -Hn)
[ "$nofile" = unlimited ] && nofile=1048576
nproc=$(ulimit -Hu)
{ [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
conf="# Written by payscore-sim's scripts/container-test.sh
[containers]
default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\""
if [ "$(cat /etc/containers/containers.conf 2>/dev/null)" != "$conf" ]; then
	mkdir -p /etc/containers
	echo "$conf" >/etc/containers/containers.conf
fi

# ---------------------------------------------------------------------------------------------
log "base images without a registry (cached in podman's storage)"
if ! podman image exists docker.io/library/debian:bookworm-slim; then
	mirror=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)
	[ -n "$mirror" ] || mirror=$(awk '$1=="deb"{print $2; exit}' /etc/apt/sources.list)
	rootfs=$WORK/rootfs
	rm -rf "$rootfs"
	debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
		die "debootstrap (see $WORK/debootstrap.log)"
	# Slimmed as the official image is; its apt uses the host's mirror.
	(cd "$rootfs" && rm -rf var/cache/apt/archives/*.deb var/lib/apt/lists/* usr/share/doc/* \
		usr/share/man/* usr/share/locale/* var/log/*.log etc/hostname etc/apt/sources.list &&
		: >etc/resolv.conf)
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		cp /etc/apt/sources.list.d/debian.sources "$rootfs/etc/apt/sources.list.d/"
	else
		cp /etc/apt/sources.list "$rootfs/etc/apt/sources.list"
	fi
	tar -C "$rootfs" -c . | podman import --change 'CMD ["bash"]' - docker.io/library/debian:bookworm-slim >/dev/null ||
		die "podman import debian:bookworm-slim"
	rm -rf "$rootfs"
fi
if ! podman image exists docker.io/library/golang:1.26-bookworm; then
	# debian:bookworm-slim with gcc and the host's Go; the host's CA bundle, so that the
	# build's `go mod download` reaches the Go module proxy as the host does.
	g=$WORK/golang-image
	rm -rf "$g"
	mkdir -p "$g"
	cp -a "$(go env GOROOT)" "$g/go"
	echo 'go/pkg/obj' >"$g/.containerignore"
	cp /etc/ssl/certs/ca-certificates.crt "$g/host-ca-bundle.crt"
	cat >"$g/Containerfile" <<'EOF'
FROM docker.io/library/debian:bookworm-slim
RUN apt-get update \
	&& apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev git \
	&& rm -rf /var/lib/apt/lists/*
COPY host-ca-bundle.crt /etc/ssl/certs/ca-certificates.crt
COPY go /usr/local/go
ENV GOTOOLCHAIN=local GOPATH=/go \
	PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN mkdir -p /go/src /go/bin && chmod -R 1777 /go && go version
WORKDIR /go
EOF
	podman build --pull=never -t docker.io/library/golang:1.26-bookworm "$g" >"$WORK/golang-image.log" 2>&1 ||
		die "golang:1.26-bookworm stand-in (see $WORK/golang-image.log)"
	rm -rf "$g"
fi

# ---------------------------------------------------------------------------------------------
log "docker compose: Compose $COMPOSE_VERSION as the docker CLI's plugin (cached in $CACHE)"
plugin=$DOCKER_CONFIG/cli-plugins/docker-compose
if ! "$plugin" version 2>/dev/null | grep -q "$COMPOSE_VERSION"; then
	# `go install ...@version` refuses it (its go.mod has exclude directives): build the
	# module as the main module instead.
	src=$(cd "$WORK" && go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | jq -r .Dir) ||
		die "go mod download compose"
	rm -rf "$WORK/compose-src"
	cp -r "$src" "$WORK/compose-src" && chmod -R u+w "$WORK/compose-src"
	mkdir -p "$(dirname "$plugin")"
	(cd "$WORK/compose-src" && CGO_ENABLED=0 go build -trimpath \
		-ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$plugin" ./cmd) \
		>"$WORK/compose-build.log" 2>&1 || die "building compose (see $WORK/compose-build.log)"
	rm -rf "$WORK/compose-src"
fi
# Where there is no docker CLI, the plugin runs alone and podman stands in for the rest.
if ! command -v docker >/dev/null; then
	docker() { if [ "$1" = compose ]; then shift && "$plugin" "$@"; else podman "$@"; fi; }
fi

# ---------------------------------------------------------------------------------------------
log "podman's Docker API for the docker CLI and compose"
PIDS=()
cleanup() {
	docker compose down -v --remove-orphans >/dev/null 2>&1
	for id in $(podman ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		podman rm -f "$id" >/dev/null 2>&1
	done
	# The compose project's volumes, and once this run has started, the anonymous ones of the
	# image's VOLUME /data that it made (down -v leaves those with podman).
	local v
	for v in $(podman volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		podman volume rm -f "$v" >/dev/null 2>&1
	done
	if [ -n "${VOLUMES_BEFORE+set}" ]; then
		for v in $(podman volume ls -q); do
			case " $VOLUMES_BEFORE " in *" $v "*) ;; *) podman volume rm -f "$v" >/dev/null 2>&1 ;; esac
		done
	fi
	podman rmi -f payscore-sim:dev >/dev/null 2>&1
	podman image prune -f >/dev/null 2>&1 # the build stage's layers
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -f "$SOCK"
}
cleanup # what an interrupted run left
VOLUMES_BEFORE=$(podman volume ls -q | tr '\n' ' ')
trap cleanup EXIT
rm -f "$SOCK"
podman system service --time=0 "unix://$SOCK" >"$WORK/podman-service.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 100); do curl -fsS --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break; sleep 0.1; done
docker version --format 'docker CLI {{.Client.Version}}, engine {{.Server.Version}} (podman)' || die "podman's API"
docker compose version
# Podman 4.3 runs health checks from systemd timers, and there is no systemd here: run the
# compose project's checks every 2 seconds instead, as the engine would.
(while :; do
	for id in $(podman ps -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME"); do
		podman healthcheck run "$id" >/dev/null 2>&1
	done
	sleep 2
done) &
PIDS+=($!)

# ---------------------------------------------------------------------------------------------
log "the image: docker build -t payscore-sim:dev . (as the Dockerfile's header says)"
check "docker build -t payscore-sim:dev ." \
	bash -c "docker build -q -t payscore-sim:dev . >'$WORK/build.log' 2>&1 || { tail -30 '$WORK/build.log'; exit 1; }"
# (Podman 4.3's Docker API leaves Healthcheck out of an image's inspect: ask podman.)
check "the image keeps its HEALTHCHECK" \
	test -n "$(podman image inspect payscore-sim:dev --format '{{if .Config.Healthcheck}}{{.Config.Healthcheck.Test}}{{end}}')"
ids=$(docker run --rm --entrypoint id payscore-sim:dev)
echo "id: $ids"
check "the image runs as payscore, uid and gid 10001" \
	test "$ids" = "uid=10001(payscore) gid=10001(payscore) groups=10001(payscore)"

# ---------------------------------------------------------------------------------------------
# readme_block NAME: the code block that follows <!-- readme-test:NAME --> in README.md.
readme_block() {
	awk -v m="<!-- readme-test:$1 -->" '
		index($0, m) { found = 1; next }
		found && /^ *```/ { if (inside) exit; inside = 1; next }
		inside { sub(/^  /, ""); print }' README.md
}
# readme_command VAR PATTERN: sets VAR to the line of the compose block that starts with
# PATTERN, less its comment.
readme_command() {
	printf -v "$1" '%s' "$(readme_block compose | grep -E "^$2" | head -1 | sed 's/ *#.*//')"
	[ -n "${!1}" ] || die "README.md: no \"$2\" line in the block after <!-- readme-test:compose -->"
}
readme_command UP 'docker compose up'
readme_command SCENARIOS 'docker compose run'
readme_command DOWN 'docker compose down'
readme_block compose-flow >"$WORK/flow.sh"
grep -q 'localhost:8081/orders' "$WORK/flow.sh" || die "README.md: no example-merchant flow after <!-- readme-test:compose-flow -->"
printf 'From README.md:\n  %s\n  %s\n  %s\nand the flow:\n' "$UP" "$SCENARIOS" "$DOWN"
sed 's/^/  /' "$WORK/flow.sh"

# flow: the README's flow as written, then what its last command promises "a moment later"
# (Pay Score deducts after complete, and notifications arrive on their own): DONE and
# USER_PAID, and USER_CONFIRM and USER_PAID verified by the merchant. It waits up to 30s.
flow() {
	local out no final
	out=$(bash "$WORK/flow.sh" 2>&1)
	# Each answer on a line of its own (the README's curls print none), cut to a readable size.
	echo "$out" | sed 's/}{/}\n{/g' | cut -c1-300
	no=$(echo "$out" | tail -n1 | jq -r .out_order_no 2>/dev/null)
	[ -n "$no" ] && [ "$no" != null ] || { echo "the flow's last command did not answer an order"; return 1; }
	local want='.state == "DONE" and .collection.state == "USER_PAID"
		and ([.notifications[] | select(.verified) | .event_type] | index("PAYSCORE.USER_CONFIRM") != null and index("PAYSCORE.USER_PAID") != null)'
	for _ in $(seq 1 30); do
		final=$(curl -fsS "localhost:8081/orders/$no")
		echo "$final" | jq -e "$want" >/dev/null && { echo "$no: DONE, USER_PAID, USER_CONFIRM and USER_PAID verified"; return 0; }
		sleep 1
	done
	echo "$final" | jq -c '{out_order_no, state, state_description, collection: .collection.state, notifications: [.notifications[] | {event_type, verified}]}'
	echo "$no is not DONE and USER_PAID with both notifications verified after 30s"
	return 1
}
# scenarios N: the README's scenario command; its log keeps the failures.
scenarios() {
	bash -c "$SCENARIOS" </dev/null >"$WORK/scenarios-$1.log" 2>&1
	local rc=$?
	grep -E '^(FAIL|scenarios:)' "$WORK/scenarios-$1.log" | cut -c1-400
	grep -qE '^scenarios: [0-9]+ passed, 0 failed' "$WORK/scenarios-$1.log" && return $rc
	return 1
}
# stopped_cleanly SERVICE: docker stop on the service's container, which must exit 0.
stopped_cleanly() {
	local id
	id=$(docker compose ps -q "$1")
	[ -n "$id" ] || { echo "no $1 container"; return 1; }
	docker stop "$id" >/dev/null || return 1
	local state
	state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")
	echo "$1: $state"
	[ "$state" = "exited 0" ] || { docker logs --tail 20 "$id" 2>&1; return 1; }
}

log "the README's compose section"
check "$UP" bash -c "$UP"
docker compose ps
check "the example-merchant flow" flow
# Podman 4.3 answers compose's wait for a --rm container's removal with exit code 0 whatever
# the container's (containers/podman#18889): the runner's own summary line is what counts.
check "$SCENARIOS (1st run)" scenarios 1
check "$SCENARIOS (2nd run, same simulator and database)" scenarios 2
check "the example-merchant flow after the scenarios" flow
check "docker stop example-merchant: exit status 0" stopped_cleanly example-merchant
check "docker stop payscore-sim: exit status 0" stopped_cleanly payscore-sim
check "$DOWN" bash -c "$DOWN"
check "down -v removed the database volume" \
	test -z "$(podman volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")"

summary
exit $FAILED
