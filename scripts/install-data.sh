#!/usr/bin/env bash
# Install the offline datasets the default profile uses, from Debian packages:
#   dataset-fashion-mnist  -> /usr/share/datasets/fashion-mnist
#   fortunes               -> /usr/share/games/fortunes
# Skips politely where apt-get is missing or we are not root (the code then falls back to
# Keras's download, or tells you which package to install).
set -euo pipefail

packages=(dataset-fashion-mnist fortunes fortunes-min)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "data: Debian packages present (${packages[*]})"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "data: apt-get not found; install ${missing[*]} yourself or let the code download the data" >&2
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "data: not root; run 'sudo apt-get install ${missing[*]}' or let the code download the data" >&2
    exit 0
fi
echo "data: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || {
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}"
}
