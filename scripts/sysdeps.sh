#!/usr/bin/env bash
# Install the Debian packages rehearse needs, if missing (root or sudo; skipped elsewhere).
#   libportaudio2  PortAudio, for recording with sounddevice
#   libsndfile1    audio files (the soundfile wheel bundles its own; harmless)
#   espeak-ng      English text-to-speech, and the IPA for English words inside Mandarin questions (Kokoro's
#                  G2P, through phonemizer and libespeak-ng); its Mandarin voice is never used
#   pulseaudio pulseaudio-utils libasound2-plugins
#                  a real audio stack for the recording tests (private server, virtual microphone)
#   tmux           the end-to-end test drives 'rehearse practice' in a terminal
#   chromium chromium-driver
#                  the browser test drives 'rehearse serve' in headless Chromium (Selenium)
#   fonts-wqy-zenhei  a CJK font, so the browser test's screenshots show Chinese, not boxes
#   npm        'rehearse models install kokoro-zh' takes Kokoro's Mandarin voices from the npm package
#              kokoro-js (only when no npm is on the PATH: Node.js's own packages bring one)
set -euo pipefail
PKGS=(libportaudio2 libsndfile1 espeak-ng pulseaudio pulseaudio-utils libasound2-plugins tmux chromium chromium-driver fonts-wqy-zenhei)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v npm >/dev/null || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "note: please install ${missing[*]} with your package manager (no apt-get here)" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
