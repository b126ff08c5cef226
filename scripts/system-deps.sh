#!/usr/bin/env bash
# System packages the test suite needs: PostgreSQL server binaries (the suite starts its own
# throwaway server), Debian's headless Chromium (the dashboard browser test; Playwright never
# downloads a browser), faketime (the time-sensitive tests rerun at other dates) and
# poppler-utils (pdftotext and pdftoppm read back the typeset SLA report). Installs whichever
# is missing.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v faketime >/dev/null 2>&1 || need+=(faketime)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
[ ${#need[@]} -eq 0 ] && exit 0
echo "installing missing system packages: ${need[*]}"
if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
