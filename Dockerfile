# syntax=docker/dockerfile:1.7
# One Dockerfile, two images:
#   docker build --target ugc      -t ugcstack/ugc .       # the UGC API (ugc serve)
#   docker build --target operator -t ugcstack/operator .  # the UGCStack operator
# `make docker-build` builds both.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Dependencies first, so that a code change does not refetch modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ENV CGO_ENABLED=0 GOFLAGS=-trimpath
RUN go build -ldflags "-s -w -X main.version=${VERSION}" -o /out/ugc ./ugc-service/cmd/ugc
RUN go build -ldflags "-s -w" -o /out/manager .

# Static binaries need nothing but CA certificates and a passwd entry for the
# non-root user, which distroless/static provides.
FROM gcr.io/distroless/static-debian12:nonroot AS ugc
ARG VERSION=dev
LABEL org.opencontainers.image.title="ugcstack UGC API" \
      org.opencontainers.image.description="Ratings, reviews with votes, and bookmarks for a movie service" \
      org.opencontainers.image.source="https://github.com/ugcstack/ugcstack" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/ugc /ugc
# In a container the API listens on every interface; the embedded store (used
# only without UGC_MONGO_URI) needs a writable volume at /var/lib/ugc.
ENV UGC_HTTP_ADDR=0.0.0.0:8080 UGC_DATA_DIR=/var/lib/ugc
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/ugc"]
CMD ["serve"]

FROM gcr.io/distroless/static-debian12:nonroot AS operator
ARG VERSION=dev
LABEL org.opencontainers.image.title="ugcstack operator" \
      org.opencontainers.image.description="Runs UGCStack resources: the UGC API, MongoDB, ClickHouse, ECK logging and an nginx gateway" \
      org.opencontainers.image.source="https://github.com/ugcstack/ugcstack" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/manager /manager
USER 65532:65532
ENTRYPOINT ["/manager"]
