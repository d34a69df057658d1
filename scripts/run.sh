#!/usr/bin/env bash
# The README's run command: installs what is missing, builds, and starts forumd on
# ./data/forum.db. On the first start (empty database) it creates the demo programme 书记论坛
# and prints the join code, the moderator key and the producer key. Extra arguments go to
# forumd (see `build/forumd --help`), e.g. `scripts/run.sh --port 9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
mkdir -p data
exec build/forumd --db ./data/forum.db --web-root "$PWD/web-client" "$@"
