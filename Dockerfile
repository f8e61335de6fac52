# payscore-sim: the simulator, and the example merchant of docker-compose.yml.
#
#   docker build -t payscore-sim:dev .
#   docker run -p 127.0.0.1:8080:8080 -v payscore-sim-data:/data payscore-sim:dev
#
# Configuration: flags after the image name (serve --notify-schedule fast) or PAYSCORE_SIM_*
# environment variables (-e PAYSCORE_SIM_NOTIFY_SCHEDULE=fast), as in the README.

# Build: go-sqlite3 needs cgo, so the binaries are built with gcc against glibc, and run on
# the same Debian release.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/payscore-sim ./cmd/example-merchant

# Run: a slim Debian with the two binaries, as an unprivileged user whose home is the data
# volume.
FROM debian:bookworm-slim
# The group first: useradd --user-group would give it the next system gid (999), not 10001.
RUN groupadd --system --gid 10001 payscore \
	&& useradd --system --uid 10001 --gid payscore --home-dir /data --shell /usr/sbin/nologin payscore \
	&& mkdir -p /data && chown payscore:payscore /data
COPY --from=build /out/payscore-sim /out/example-merchant /usr/local/bin/
USER payscore
WORKDIR /data
# All interfaces inside the container; the database in the volume.
ENV PAYSCORE_SIM_ADDR=0.0.0.0:8080 \
	PAYSCORE_SIM_DB=/data/payscore-sim.db
EXPOSE 8080
VOLUME /data
# No curl in the image: the binary asks its own /healthz. Change --addr with the port.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
	CMD ["payscore-sim", "healthcheck", "--addr", "127.0.0.1:8080"]
# SIGTERM (docker stop) finishes the requests in flight, stops the notification worker
# (pending notifications stay in the database) and closes SQLite.
STOPSIGNAL SIGTERM
ENTRYPOINT ["payscore-sim"]
CMD ["serve"]
