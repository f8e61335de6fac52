#!/usr/bin/env bash
# Runs every check and test of payscore-sim, on a fresh machine as on a developer's: whatever
# the tests need and the machine lacks is installed first.
set -euo pipefail
cd "$(dirname "$0")/.."

STATICCHECK_VERSION=v0.8.2
export PATH="$(go env GOPATH)/bin:$PATH"

step() { printf '\n=== %s\n' "$*"; }

# apt_install PACKAGE... installs Debian packages, as root or through sudo.
apt_install() {
	local sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

step "tools"
# The page, dashboard and H5 shim tests drive Debian's chromium; the shim tests run on node.
command -v chromium >/dev/null || apt_install chromium
command -v node >/dev/null || apt_install nodejs
# Screenshots of the pages show Chinese text: without a CJK font it renders as boxes.
{ command -v fc-list >/dev/null && fc-list :lang=zh | grep -q .; } || apt_install fonts-wqy-zenhei
# The README's shell examples, run by cmd/payscore-sim's tests, use curl and jq.
command -v curl >/dev/null || apt_install curl
command -v jq >/dev/null || apt_install jq
export PAYSCORE_SIM_REQUIRE_BROWSER=1
# The Node SDK tests (simulator/http/sdk_node_test.go) drive the SDK pinned in this project's
# package-lock.json; npm ci installs it once, and again only when the lock file changes.
nodesdk=simulator/http/testdata/nodesdk
if [ ! -f "$nodesdk/node_modules/.package-lock.json" ] || [ "$nodesdk/package-lock.json" -nt "$nodesdk/node_modules/.package-lock.json" ]; then
	command -v npm >/dev/null || apt_install npm
	(cd "$nodesdk" && npm ci --no-audit --no-fund)
fi
export PAYSCORE_SIM_REQUIRE_NODE_SDK=1
if ! command -v staticcheck >/dev/null || ! staticcheck -version | grep -q "${STATICCHECK_VERSION#v}"; then
	go install "honnef.co/go/tools/cmd/staticcheck@${STATICCHECK_VERSION}"
fi
go version

step "gofmt"
unformatted=$(gofmt -l bench cmd simulator fixtures web)
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "staticcheck"
staticcheck ./...

step "go test"
go test -race -count=1 "$@" ./...

step "node --test (mini-program shim)"
go build -o .cache/payscore-sim ./cmd/payscore-sim
PAYSCORE_SIM_BIN="$PWD/.cache/payscore-sim" node --test web/shim/test/

step "scenario library"
# The library also runs inside go test (simulator/scenario/run's TestLibrary); this is the command
# QA and CI use, and it leaves the JUnit report in .cache/.
.cache/payscore-sim scenario run --junit "$PWD/.cache/scenarios-junit.xml" fixtures/scenarios

if [ "${PAYSCORE_SIM_SKIP_CONTAINER:-}" != 1 ]; then
	step "container (Dockerfile and docker-compose.yml, for real; PAYSCORE_SIM_SKIP_CONTAINER=1 leaves it out)"
	if [ "$(id -u)" -eq 0 ]; then ./scripts/container-test.sh; else sudo ./scripts/container-test.sh; fi
fi
