import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decodeAudio } from '../../src/audio/index.js';
import { NativeBackend } from '../../src/backends/native/index.js';
import { ChunkedLiveProcessor, readCommittedWords, WAV_HEADER_BYTES, type SpeakerRemapEvent, type TickEvent } from '../../src/chunking/index.js';
import { wordErrorRate } from '../../src/metrics/wer.js';
import type { Word } from '../../src/spec/index.js';
import { OnlineDiarizer } from '../../src/diarization/index.js';
import { AUDIO_DIR, describeWithAssets, OFFLINE_MODEL, PROJECT_ROOT, SPEAKER_MODEL, STREAMING_MODEL, VAD_MODEL } from '../helpers/shared.js';

const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-short-01');

let dir: string;
let pcm: Uint8Array;
let reference: string;
let offline: NativeBackend;

function toPcm16(samples: Float32Array): Uint8Array {
  const out = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32768)));
  return new Uint8Array(out.buffer);
}

/**
 * Character error rate between two transcripts. The tiny model misspells a third of all words and
 * its spelling shifts with the audio around a word, so two decodes of the same speech differ in
 * many words but in few characters: a dropped or repeated word at a boundary shows up here.
 */
function cer(a: string, b: string): number {
  return wordErrorRate([...a.replace(/\s+/g, ' ')], [...b.replace(/\s+/g, ' ')]).wer;
}

/** Feeds like `--speed max`: 0.5 s chunks, waiting for each tick. */
async function feed(p: ChunkedLiveProcessor, data: Uint8Array): Promise<void> {
  for (let o = 0; o < data.length; o += 16000) {
    await p.push(data.subarray(o, Math.min(data.length, o + 16000)));
    await p.onIdle();
  }
}

/** Committed words are in time order and never overlap (so none was committed twice). */
function expectOrderedNoOverlap(words: readonly Word[]): void {
  for (let i = 1; i < words.length; i++) {
    expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end - 1e-9);
    expect(words[i]!.start).toBeGreaterThan(words[i - 1]!.start);
  }
}

describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, `${MEETING}.wav`])('ChunkedLiveProcessor through the native backend', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'live-native-'));
    const audio = await decodeAudio(`${MEETING}.wav`);
    pcm = toPcm16(audio.samples);
    reference = (JSON.parse(await readFile(`${MEETING}.json`, 'utf8')) as { text: string }[]).map((u) => u.text).join(' ');
    offline = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL });
  });
  afterAll(async () => {
    await offline?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('windowed: words committed live match the full pass, with no duplicates or gaps at tick boundaries', async () => {
    const spoolDir = join(dir, 'windowed');
    const p = new ChunkedLiveProcessor({ backend: offline, spoolDir, mode: 'windowed' });
    const live: Word[] = [];
    const ticks: TickEvent[] = [];
    p.on('final', (e) => live.push(...e.segment.words));
    p.on('tick', (e) => ticks.push(e));
    await p.start();
    await feed(p, pcm);
    const full = await p.stop();

    expect(ticks.length).toBeGreaterThanOrEqual(6);
    expectOrderedNoOverlap(live);
    const liveText = live.map((w) => w.word).join(' ');
    const werLive = wordErrorRate(reference, liveText).wer;
    const werFull = wordErrorRate(reference, full.text).wer;
    // The tiny model misspells a third of words; live must be about as good as the full pass.
    expect(werFull).toBeLessThan(0.7);
    expect(werLive).toBeLessThan(werFull + 0.05);
    expect(cer(full.text, liveText)).toBeLessThan(0.15);
    // No gap: every 5 s stretch where the full pass heard 3+ words has live words too.
    const fullWords = full.segments.flatMap((s) => s.words);
    for (let t = 0; t < full.durationSec; t += 5) {
      const inFull = fullWords.filter((w) => w.start >= t && w.start < t + 5).length;
      const inLive = live.filter((w) => w.start >= t - 1 && w.start < t + 6).length;
      if (inFull >= 3) expect(inLive, `live words near ${t}-${t + 5} s`).toBeGreaterThan(0);
    }
    // Bounded reads: no live tick read more than (interval + context) of audio.
    for (const t of ticks.slice(0, -1)) expect(t.bytesRead).toBeLessThanOrEqual((15 + 30) * 32000);
    expect(p.summary().decodedRatio).toBeLessThan(1.6);
    // The spool is a valid WAV of the whole recording.
    expect((await stat(join(spoolDir, 'audio.wav'))).size).toBe(WAV_HEADER_BYTES + pcm.length);
    expect(full.durationSec).toBeCloseTo(pcm.length / 32000, 1);
  });

  it('streaming model: audio is fed once (no re-reads) and finals are committed exactly once', async () => {
    const streaming = new NativeBackend({ model: STREAMING_MODEL });
    try {
      const p = new ChunkedLiveProcessor({ backend: streaming, spoolDir: join(dir, 'streaming'), intervalSec: 10 });
      const live: Word[] = [];
      let partials = 0;
      p.on('final', (e) => live.push(...e.segment.words));
      p.on('partial', () => partials++);
      await p.start();
      expect(p.isStreamingMode).toBe(true);
      for (let o = 0; o < pcm.length; o += 3200) await p.push(pcm.subarray(o, Math.min(pcm.length, o + 3200)));
      const full = await p.stop();
      const s = p.summary();
      expect(s.bytesRead).toBe(pcm.length);
      expect(s.decodedRatio).toBeLessThanOrEqual(1.0001);
      expect(partials).toBeGreaterThan(0);
      expectOrderedNoOverlap(live);
      const liveText = live.map((w) => w.word).join(' ');
      expect(wordErrorRate(reference, liveText).wer).toBeLessThan(0.8);
      expect(cer(full.text, liveText)).toBeLessThan(0.2);
    } finally {
      await streaming.dispose();
    }
  });

  it('survives kill -9 of the process running it: recover() keeps every byte and word written before the kill', async () => {
    const spoolDir = join(dir, 'killed');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'chunking', 'fixtures', 'live-child.ts'), spoolDir, `${MEETING}.wav`, OFFLINE_MODEL, VAD_MODEL],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_code, sig) => r(sig)));
    let last: { tick: number; pushedBytes: number; committed: number } | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const msg = JSON.parse(line) as { tick?: number; pushedBytes: number; committed: number; done?: boolean };
      expect(msg.done, 'the child finished before it was killed').toBeUndefined();
      last = msg as typeof last;
      if (msg.tick !== undefined && msg.tick >= 4) {
        child.kill('SIGKILL');
        break;
      }
    }
    expect(await exited).toBe('SIGKILL');
    expect(last).toBeDefined();
    const before = await readCommittedWords(spoolDir);
    expect(before.length).toBeGreaterThanOrEqual(last!.committed);

    const p = await ChunkedLiveProcessor.recover(spoolDir, { backend: offline, intervalSec: 5, contextSec: 10 });
    const rec = p.recovered!;
    expect(rec.audioBytes).toBeGreaterThanOrEqual(last!.pushedBytes);
    expect(rec.committedWords).toBe(before.length);
    // The spooled audio is exactly the start of the recording.
    const spooled = (await readFile(join(spoolDir, 'audio.wav'))).subarray(WAV_HEADER_BYTES, WAV_HEADER_BYTES + rec.audioBytes);
    expect(Buffer.compare(spooled, Buffer.from(pcm.subarray(0, rec.audioBytes)))).toBe(0);
    const after: Word[] = [];
    p.on('final', (e) => after.push(...e.segment.words));
    // Continue the meeting where the child left off, then finalize.
    await feed(p, pcm.subarray(rec.audioBytes));
    const full = await p.stop();
    const all = await readCommittedWords(spoolDir);
    expect(all.slice(0, before.length)).toEqual(before);
    expect(all.slice(before.length).map((w) => w.word)).toEqual(after.map((w) => w.word));
    expectOrderedNoOverlap(all);
    expect(full.durationSec).toBeCloseTo(pcm.length / 32000, 1);
    expect(cer(full.text, all.map((w) => w.word).join(' '))).toBeLessThan(0.15);
  });

  it('finalize: diarized full pass with global speaker labels, and a remap of the live labels onto them', async () => {
    const backend = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, speakerModel: SPEAKER_MODEL });
    const liveDiarizer = new OnlineDiarizer({ vadModel: VAD_MODEL, embeddingModel: SPEAKER_MODEL });
    try {
      const p = new ChunkedLiveProcessor({ backend, spoolDir: join(dir, 'diarized'), mode: 'windowed', diarization: { numSpeakers: 2 }, liveDiarizer });
      const live: Word[] = [];
      let remap: SpeakerRemapEvent | undefined;
      p.on('final', (e) => live.push(...e.segment.words));
      p.on('speaker-remap', (e) => (remap = e));
      await p.start();
      await feed(p, pcm);
      const full = await p.stop();
      const finalSpeakers = new Set(full.segments.map((s) => s.speaker));
      expect(finalSpeakers.size).toBe(2);
      expect(finalSpeakers.has(undefined)).toBe(false);
      // Live words carried provisional labels; each maps onto one of the final speakers.
      const liveLabels = new Set(live.map((w) => w.speaker).filter((x) => x !== undefined));
      expect(liveLabels.size).toBeGreaterThanOrEqual(2);
      expect(remap).toBeDefined();
      for (const l of liveLabels) expect(finalSpeakers.has(remap!.mapping[l])).toBe(true);
    } finally {
      liveDiarizer.dispose();
      await backend.dispose();
    }
  });
});
