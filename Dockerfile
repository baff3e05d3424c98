# actionhero-c on Debian 12, built and run with the project's own Makefile.
#   docker build -t actionhero-c .
#   docker run --rm -p 8080:8080 actionhero-c
FROM debian:12-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates make gcc libc6-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . /app
# tools/deps.sh installs the Debian -dev packages (libuv, wslay, jansson, yajl,
# libsodium, hiredis, OpenSSL, PCRE2, zlib) and fetches llhttp 9.2.
RUN make deps && make -j"$(nproc)" build/actionhero && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["build/actionhero", "start"]
