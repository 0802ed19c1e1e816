#!/bin/sh
# Starts Chromium as an unprivileged user, so that its own sandbox can run: Chromium
# refuses to sandbox itself as root. Playwright (running as root in the worker) starts
# this script in the browser's place; it hands the profile Playwright made to that user
# and replaces itself with the browser, which keeps Playwright's pipes and process id.
# See contacts/engine/sandbox.py.
set -eu
profile=""
for arg do
  case "$arg" in
    --user-data-dir=*) profile="${arg#--user-data-dir=}" ;;
  esac
done
if [ -n "$profile" ]; then
  chown -R "$DC_BROWSER_UID:$DC_BROWSER_GID" "$profile"
  HOME="$profile"
  export HOME
fi
exec setpriv --reuid="$DC_BROWSER_UID" --regid="$DC_BROWSER_GID" --clear-groups \
  --inh-caps=-all --bounding-set=-all -- "$DC_BROWSER_EXECUTABLE" "$@"
