#!/usr/bin/env bash
# Regenerates the demo's creator videos, posters and captions (committed; nothing is
# downloaded). Needs Debian's ffmpeg. WebM with VP9 video and Opus audio plays in every
# Chromium build (Debian's Chromium may not play H.264).
set -euo pipefail
cd "$(dirname "$0")"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
make_demo() { # name colour1 colour2 title tone-hz
  local name=$1 from=$2 to=$3 title=$4 tone=$5
  ffmpeg -loglevel error -y \
    -f lavfi -i "gradients=s=480x270:c0=${from}:c1=${to}:duration=15:speed=0.02:rate=24" \
    -f lavfi -i "sine=frequency=${tone}:duration=15:sample_rate=48000" \
    -vf "drawtext=fontfile=${FONT}:text='${title}':fontcolor=white:fontsize=28:x=(w-tw)/2:y=h/2-40:shadowx=2:shadowy=2,drawtext=fontfile=${FONT}:text='%{eif\:t\:d}s / 15s':fontcolor=white:fontsize=20:x=(w-tw)/2:y=h/2+20" \
    -af "volume=0.05" \
    -c:v libvpx-vp9 -b:v 50k -deadline good -cpu-used 4 -row-mt 1 -c:a libopus -b:a 16k -shortest "${name}.webm"
  ffmpeg -loglevel error -y -ss 1 -i "${name}.webm" -frames:v 1 -q:v 6 "${name}.jpg"
}
make_demo ana   0xb4654a 0x5b2a86 "Ana pours a candle" 330
make_demo theo  0x2a6f86 0x1d3557 "Théo lights the trio" 392
make_demo sam   0x3a7d44 0x1b4332 "Sam tunes a bike" 440
