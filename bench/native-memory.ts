/**
 * Peak RSS of NativeBackend.transcribe() on a 60-minute file vs a 1-minute file (target: within
 * 1.5×). Each run is a fresh child process reporting its own maxRSS. The long file is espeak
 * speech with pauses, generated here by repeating espeak-long.wav (73.5 s), written in a streaming
 * fashion to a temp folder.
 *   npx tsx bench/native-memory.ts [--minutes 60] [--json]
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OFFLINE_MODEL, VAD_MODEL, AUDIO_DIR } from '../test/helpers/shared.js';
import { arg, done, line } from './lib.js';

const minutes = Number(arg('--minutes', '60'));
const root = fileURLToPath(new URL('..', import.meta.url));
const src = readFileSync(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav'));
const pcm = src.subarray(44); // canonical 44-byte header, 16 kHz mono 16-bit

function makeWav(path: string, seconds: number): void {
  const bytes = Math.floor(seconds * 16000) * 2;
  const h = Buffer.alloc(44);
  h.write('RIFF', 0, 'latin1');
  h.writeUInt32LE(36 + bytes, 4);
  h.write('WAVEfmt ', 8, 'latin1');
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(16000, 24);
  h.writeUInt32LE(32000, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36, 'latin1');
  h.writeUInt32LE(bytes, 40);
  const fd = openSync(path, 'w');
  writeSync(fd, h);
  let left = bytes;
  while (left > 0) {
    const n = Math.min(left, pcm.length);
    writeSync(fd, pcm, 0, n);
    left -= n;
  }
  closeSync(fd);
}

const CHILD = `
import { NativeBackend } from ${JSON.stringify(join(root, 'src/backends/native/index.ts'))};
const b = new NativeBackend({ model: process.argv[1], vadModel: process.argv[2], threads: 1 });
const t0 = performance.now();
const t = await b.transcribe(process.argv[3]);
console.log(JSON.stringify({ maxRssKb: process.resourceUsage().maxRSS, segments: t.segments.length, durationSec: t.durationSec, sec: (performance.now() - t0) / 1000 }));
`;

function measure(path: string): { maxRssKb: number; segments: number; durationSec: number; sec: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD, OFFLINE_MODEL, VAD_MODEL, path], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

const dir = mkdtempSync(join(tmpdir(), 'hasr-mem-'));
try {
  const short = join(dir, '1min.wav');
  const long = join(dir, `${minutes}min.wav`);
  makeWav(short, 60);
  makeWav(long, minutes * 60);
  const a = measure(short);
  const b = measure(long);
  const ratio = b.maxRssKb / a.maxRssKb;
  line('peak RSS, 1-minute file', `${(a.maxRssKb / 1024).toFixed(1)} MiB (${a.segments} segments, ${a.sec.toFixed(1)} s)`);
  line(`peak RSS, ${minutes}-minute file`, `${(b.maxRssKb / 1024).toFixed(1)} MiB (${b.segments} segments, ${b.sec.toFixed(1)} s, RTF ${(b.sec / b.durationSec).toFixed(4)})`);
  line('ratio', `${ratio.toFixed(3)}×  (target ≤ 1.5×)`);
  done({ minutes, shortMaxRssKb: a.maxRssKb, longMaxRssKb: b.maxRssKb, ratio, target: 1.5, meetsTarget: ratio <= 1.5, longRtf: b.sec / b.durationSec });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
