# Static recs binary on a distroless base. Build: docker build -t recs .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o /out/recs ./cmd/recs

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/recs /usr/local/bin/recs
USER nonroot:nonroot
WORKDIR /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/recs"]
CMD ["serve", "--from", "/data/runs/latest", "--addr", ":8080"]
