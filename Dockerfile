# go-sqlite3 needs cgo, so the binary is built with gcc and runs on a glibc image.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN go build -trimpath -ldflags="-s -w" -o /out/payscore-sim ./cmd/payscore-sim

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data payscore \
	&& mkdir -p /data && chown payscore /data
COPY --from=build /out/payscore-sim /usr/local/bin/payscore-sim
USER payscore
WORKDIR /data
ENV PAYSCORE_SIM_ADDR=0.0.0.0:8080 \
	PAYSCORE_SIM_DB=/data/payscore-sim.db
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=5s --timeout=3s --retries=10 CMD ["payscore-sim", "healthcheck"]
ENTRYPOINT ["payscore-sim"]
CMD ["serve"]
