# syntax=docker/dockerfile:1
#
# The whole product in one image: the server binary, with the browser app embedded in it.
#
#   docker build -t fb-audiences .
#   docker run -p 3000:3000 -v fb-audiences-data:/app/data fb-audiences
#
# SQLite by default, in the /app/data volume (with the generated secret.key); set DATABASE_URL
# for PostgreSQL (see compose.yaml). Other commands: `docker run … fb-audiences migrate`,
# `… user add you@example.com --admin`, `… backup /app/data/backup.db`.

# Node.js, for the npm-installed wasm-opt (binaryen) the build uses: Debian 12's Node.js is
# too old (the build wants 20+).
FROM node:22-bookworm-slim AS node

FROM rust:1.95-bookworm AS build
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules /usr/local/lib/node_modules
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && rustup target add wasm32-unknown-unknown
WORKDIR /src
# What `cargo xtask setup` installs, in layers of their own so that a change to the code does
# not rebuild them: the wasm-bindgen CLI of exactly the version Cargo.lock pins (a few minutes
# to compile), then the npm packages of end2end/ (wasm-opt; no browsers are downloaded).
COPY Cargo.lock ./
RUN version="$(sed -n '/^name = "wasm-bindgen"$/{n;s/^version = "\(.*\)"$/\1/p;}' Cargo.lock)" \
 && test -n "$version" \
 && cargo install wasm-bindgen-cli --version "=$version"
COPY end2end/package.json end2end/package-lock.json end2end/
RUN cd end2end \
 && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
COPY . .
# The release SPA into target/site, then the server (`server` profile) that embeds it.
RUN cargo xtask build

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /app/data \
 && chown app:app /app/data
COPY --from=build /src/target/server/server /usr/local/bin/server
USER app
WORKDIR /app
# Listen on every interface of the container. With PostgreSQL, secret.key is generated in
# data/ of the working directory: the same volume.
ENV BIND=0.0.0.0:3000 \
    DATABASE_URL=sqlite:///app/data/fb-audiences.db \
    LOG_FORMAT=json
VOLUME /app/data
EXPOSE 3000
# Ready = the database answers and has every migration (GET /api/health/ready).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["server", "healthcheck"]
ENTRYPOINT ["server"]
CMD ["serve"]
