#!/usr/bin/env bash
# Installs what this machine is missing for the stack and its tests, and nothing twice:
# Debian packages (Postgres server, Redis, a JDK for Debezium and the relay's batch reader, nginx and
# wrk for benchmarks, kcat), then the project's virtualenv from the pinned requirements. Safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
# `./dev up` and `./dev test` may start at the same moment: one installer at a time.
mkdir -p .stack
exec 9>.stack/bootstrap.lock
flock 9

APT_PACKAGES=(postgresql redis-server openjdk-17-jdk-headless nginx-light wrk kcat)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
# A JDK of another packaging serves just as well (javac compiles the relay's batch reader).
if command -v java >/dev/null 2>&1 && command -v javac >/dev/null 2>&1; then
  missing=("${missing[@]/openjdk-17-jdk-headless}")
fi
missing=($(printf '%s\n' "${missing[@]}" | sed '/^$/d'))
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing Debian packages: ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
stamp=.venv/.requirements.sha256
wanted=$(cat requirements/*.txt | sha256sum | cut -d' ' -f1)
if [ ! -x .venv/bin/python ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "installing Python dependencies into .venv"
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check --upgrade pip wheel
  .venv/bin/pip install -q --disable-pip-version-check -r requirements/dev.txt tox==4.67.15
  echo "$wanted" > "$stamp"
fi
