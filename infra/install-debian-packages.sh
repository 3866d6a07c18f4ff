#!/usr/bin/env bash
# Install every package listed in infra/debian-packages.txt that is not yet
# installed. Idempotent: when everything is present it only checks and exits.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
list="${1:-$here/debian-packages.txt}"

if [[ ! -r "$list" ]]; then
    echo "install-debian-packages: cannot read $list" >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    echo "install-debian-packages: not root and sudo is not available" >&2
    exit 1
fi

wanted=()
while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"                      # strip comments
    line="${line//[[:space:]]/}"            # strip whitespace
    [[ -n "$line" ]] && wanted+=("$line")
done <"$list"

missing=()
for pkg in "${wanted[@]}"; do
    status="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-debian-packages: all ${#wanted[@]} packages already installed"
    exit 0
fi

echo "install-debian-packages: installing ${#missing[@]} package(s): ${missing[*]}"
start=$SECONDS
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-debian-packages: done in $((SECONDS - start)) s"
