import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { wordErrorRate } from '../../src/metrics/index.js';
import { AUDIO_DIR, MODELS_DIR, OFFLINE_MODEL, PROJECT_ROOT, STREAMING_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

interface Event {
  type: string;
  text?: string;
  start?: number;
  end?: number;
  durationSec?: number;
  backend?: string;
  segment?: { start: number; end: number; text: string; words: { word: string; start: number; end: number }[] };
}

/** Runs the real CLI from source (through tsx), optionally with bytes on stdin or a SIGINT once output appears. */
function cli(args: string[], opts: { stdin?: Buffer; interruptAfterLines?: number } = {}): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, HYBRID_ASR_MODELS: MODELS_DIR, HYBRID_ASR_DEBUG: '0', NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let sent = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (!sent && opts.interruptAfterLines !== undefined && stdout.split('\n').length > opts.interruptAfterLines) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
    if (opts.stdin) child.stdin.end(opts.stdin);
    else child.stdin.end();
  });
}

function events(r: Run): Event[] {
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Event);
}

const finals = (es: Event[]): string[] => es.filter((e) => e.type === 'final').map((e) => e.segment!.text);

function expectOneLineError(r: Run, code: number, pattern: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr).toMatch(/^hybrid-asr: /);
  expect(r.stderr).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at .+[(:]\d+/m);
  expect(r.stdout).toBe('');
}

const LONG = join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.wav');
const CLIP = join(AUDIO_DIR, 'espeak', 'espeak-001.wav');
const d = describeWithAssets([OFFLINE_MODEL, STREAMING_MODEL, VAD_MODEL, LONG, CLIP]);

d('hybrid-asr stream', () => {
  it('fast endpointing is the default: more finals than --no-fast-endpoint (it also ends at pauses), in order, close to the reference', async () => {
    const args = ['stream', LONG, '--backend', 'native', '--model', 'tiny-ctc-en-streaming', '--chunk-ms', '100', '--threads', '1'];
    const [fast, plain] = await Promise.all([cli(args), cli([...args, '--no-fast-endpoint'])]);
    expect(fast.code).toBe(0);
    expect(plain.code).toBe(0);
    const fs = events(fast).filter((e) => e.type === 'final');
    const ps = events(plain).filter((e) => e.type === 'final');
    // The fast endpoint also ends utterances at the pauses inside clips.
    expect(fs.length).toBeGreaterThan(ps.length);
    let prevEnd = 0;
    for (const f of fs) {
      expect(f.segment!.start).toBeGreaterThanOrEqual(prevEnd - 1e-6);
      prevEnd = f.segment!.end;
    }
    // Accuracy against the model rule is compared on a larger set in test/native; here: sane.
    const ref = readFileSync(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t')[3]).join(' ');
    expect(wordErrorRate(ref, finals(events(fast)).join(' ')).wer).toBeLessThanOrEqual(0.65);
  });

  it('streaming model with --no-fast-endpoint: growing partials, one final per utterance (the model rule) with words on the global timeline, end last', async () => {
    const r = await cli(['stream', LONG, '--backend', 'native', '--model', 'tiny-ctc-en-streaming', '--chunk-ms', '100', '--threads', '1', '--no-fast-endpoint']);
    expect(r.code).toBe(0);
    const es = events(r);
    expect(es.at(-1)).toMatchObject({ type: 'end', backend: 'native' });
    expect(es.at(-1)!.durationSec).toBeCloseTo(73.456, 1);
    expect(es.filter((e) => e.type === 'end')).toHaveLength(1);
    const clips = readFileSync(join(AUDIO_DIR, 'espeak', 'long', 'espeak-long.segments.tsv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'))
      .map(([s, e, , text]) => ({ start: Number(s), end: Number(e), text: text! }));
    const fs = es.filter((e) => e.type === 'final');
    // One final per utterance (an utterance with a long inner pause may give two).
    expect(fs.length).toBeGreaterThanOrEqual(clips.length);
    expect(fs.length).toBeLessThanOrEqual(clips.length + 3);
    let prevEnd = 0;
    for (const f of fs) {
      const s = f.segment!;
      expect(s.start).toBeGreaterThanOrEqual(prevEnd - 1e-6);
      expect(s.words.length).toBeGreaterThan(0);
      for (const w of s.words) {
        expect(w.start).toBeGreaterThanOrEqual(s.start - 1e-6);
        expect(w.end).toBeLessThanOrEqual(s.end + 1e-6);
      }
      // Global timeline: every final lies inside one source clip of the long file.
      expect(clips.some((c) => s.start >= c.start - 0.1 && s.end <= c.end + 0.5), `final at ${s.start}-${s.end}`).toBe(true);
      prevEnd = s.end;
    }
    for (const c of clips) expect(fs.some((f) => f.segment!.start >= c.start - 0.1 && f.segment!.end <= c.end + 0.5)).toBe(true);
    const wer = wordErrorRate(clips.map((c) => c.text).join(' '), finals(es).join(' ')).wer;
    expect(wer).toBeLessThanOrEqual(0.5145 + 0.05);
    // Partials within an utterance grow: each new one is at least as long as the one before, mostly.
    let grew = 0;
    let shrank = 0;
    let prev = '';
    for (const e of es) {
      if (e.type === 'final') prev = '';
      if (e.type !== 'partial') continue;
      expect(e.text).not.toBe(prev);
      if (e.text!.length > prev.length) grew++;
      else shrank++;
      prev = e.text!;
    }
    expect(grew).toBeGreaterThan(5 * Math.max(1, shrank));
  });

  it('standard input as WAV and as raw s16le PCM gives the same finals as the file', async () => {
    const args = ['--backend', 'native', '--model', 'tiny-ctc-en-streaming', '--threads', '1'];
    const wav = readFileSync(CLIP);
    const [file, piped, raw] = await Promise.all([
      cli(['stream', CLIP, ...args]),
      cli(['stream', '-', ...args], { stdin: wav }),
      cli(['stream', '-', '--raw-rate', '16000', ...args], { stdin: wav.subarray(44) }),
    ]);
    for (const r of [file, piped, raw]) expect(r.code, r.stderr).toBe(0);
    expect(finals(events(file)).join(' ')).toMatch(/following/);
    expect(finals(events(piped))).toEqual(finals(events(file)));
    expect(finals(events(raw))).toEqual(finals(events(file)));
  });

  it('offline model: VAD-driven pseudo-streaming through the CLI', async () => {
    const r = await cli(['stream', LONG, '--backend', 'native', '--model', 'tiny-ctc-en-offline', '--chunk-ms', '200', '--threads', '1']);
    expect(r.code, r.stderr).toBe(0);
    const es = events(r);
    expect(es.filter((e) => e.type === 'final').length).toBe(16);
    expect(es.filter((e) => e.type === 'partial').length).toBeGreaterThan(16);
    expect(es.at(-1)!.type).toBe('end');
  });

  it('SIGINT during a real-time stream stops it with exit code 130 and well-formed output', async () => {
    const r = await cli(['stream', LONG, '--backend', 'native', '--model', 'tiny-ctc-en-streaming', '--realtime', '--threads', '1'], { interruptAfterLines: 2 });
    expect(r.code).toBe(130);
    const es = events(r);
    expect(es.length).toBeGreaterThanOrEqual(2);
    expect(es.some((e) => e.type === 'end')).toBe(false);
  });

  it('bad input and flags are one-line errors with the usage exit code', async () => {
    const [missing, rawWithFile, chunk, model] = await Promise.all([
      cli(['stream', join(AUDIO_DIR, 'no-such.wav'), '--backend', 'native', '--model', 'tiny-ctc-en-streaming']),
      cli(['stream', CLIP, '--raw-rate', '16000', '--backend', 'native', '--model', 'tiny-ctc-en-streaming']),
      cli(['stream', CLIP, '--chunk-ms', '0', '--backend', 'native', '--model', 'tiny-ctc-en-streaming']),
      cli(['stream', CLIP, '--backend', 'native', '--model', 'no-such-model']),
    ]);
    expectOneLineError(missing, 2, /no-such\.wav/);
    expectOneLineError(rawWithFile, 2, /--raw-rate/);
    expect(chunk.code).not.toBe(0);
    expect(chunk.stderr).toMatch(/--chunk-ms/);
    expectOneLineError(model, 2, /no-such-model/);
  });
});
