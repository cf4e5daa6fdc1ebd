#!/usr/bin/env bash
# apt-install.sh PACKAGE...: installs Debian/Ubuntu packages with apt-get,
# through sudo when not root (GitHub's runners run as a user with
# passwordless sudo), and stops the services a package starts on install:
# the tests start their own servers on 127.0.0.1 with ports of their own.
# Callers check first what is missing and name only that.
set -euo pipefail
[ $# -gt 0 ] || exit 0
as_root=()
if [ "$(id -u)" -ne 0 ]; then
	if ! sudo -n true 2>/dev/null; then
		echo "apt-install.sh: not root and no passwordless sudo: install $* yourself" >&2
		exit 1
	fi
	as_root=(sudo -n)
fi
echo "installing: $*"
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
for pkg in "$@"; do
	case "$pkg" in
	postgresql*) svc=postgresql ;;
	redis-server | clickhouse-server | zookeeper | nginx*) svc=${pkg%%-light} ;;
	*) continue ;;
	esac
	"${as_root[@]}" service "$svc" stop >/dev/null 2>&1 || true
done
