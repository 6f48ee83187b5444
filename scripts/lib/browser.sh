# Debian's Chromium and a CJK font for the console's browser tests (tests/js/console.mjs, driven
# by playwright-core pointed at /usr/bin/chromium): installed when missing and run as root,
# otherwise named. The font makes Chinese text render in screenshots instead of empty boxes.
fieldsync_ensure_browser() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "noto sans cjk" || missing+=(fonts-noto-cjk)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "The browser tests need: ${missing[*]}" >&2
    echo "Install them, then run this again:  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "== apt-get install ${missing[*]} (for the console's browser tests)"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
