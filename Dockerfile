# etlc's container image for those who build with Docker (docker buildx
# build --platform linux/amd64,linux/arm64 .). It is kept equivalent to the
# image `make image` assembles without a daemon (deploy/imagebuild): a
# static etlc at /usr/local/bin/etlc as the entrypoint, the CA certificate
# bundle, the non-root user etlc (65532:65532), /var/lib/etlc as working
# and data directory, ports 5432 (gateway) and 9090 (metrics), the same OCI
# labels. Change one, change the other.

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS=linux
ARG TARGETARCH
ARG VERSION=dev
ARG REVISION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH go build -trimpath \
      -ldflags "-s -w -X main.version=$VERSION -X main.revision=$REVISION" \
      -o /out/usr/local/bin/etlc ./cmd/etlc
RUN mkdir -p /out/etc/ssl/certs /out/var/lib/etlc /out/tmp \
 && cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/ \
 && printf 'root:x:0:0:root:/root:/sbin/nologin\netlc:x:65532:65532:etlc:/var/lib/etlc:/sbin/nologin\n' > /out/etc/passwd \
 && printf 'root:x:0:\netlc:x:65532:\n' > /out/etc/group \
 && printf 'hosts: files dns\n' > /out/etc/nsswitch.conf \
 && chown 65532:65532 /out/var/lib/etlc && chmod 1777 /out/tmp

FROM scratch
ARG VERSION=dev
ARG REVISION=dev
ARG SOURCE=https://github.com/etlc/etlc
COPY --from=build /out/ /
LABEL org.opencontainers.image.title="etlc" \
      org.opencontainers.image.description="SQL-first ETL engine: etlc compile | run | serve" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.source="$SOURCE"
ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
WORKDIR /var/lib/etlc
EXPOSE 5432 9090
ENTRYPOINT ["/usr/local/bin/etlc"]
CMD ["--help"]
