#!/bin/bash
# The image's HEALTHCHECK: healthy while GET /health answers 200, which the server does only once the
# model serves (503 while it loads, and after its engine stopped). Plain bash over /dev/tcp, because
# neither runtime base is sure to carry curl or wget. The port is SERVER_PORT when set (Spring Boot
# reads it too), else the image's 8080.
port="${SERVER_PORT:-8080}"
exec 3<> "/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
# Only the status line matters; Docker's --timeout bounds the whole check, read -t this one read.
IFS= read -r -t 4 status <&3 || exit 1
echo "$status"
[[ "$status" == HTTP/1.[01]\ 200* ]]
