import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUDIO_DIR, describeWithAssets, MODELS_DIR, OFFLINE_MODEL, PROJECT_ROOT } from '../helpers/shared.js';

const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-short-01.wav');
const CLI = join(PROJECT_ROOT, 'src', 'cli', 'index.ts');

function live(args: string[], input?: Buffer): { code: number | null; lines: Record<string, unknown>[]; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'live', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, HYBRID_ASR_MODELS: MODELS_DIR },
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const lines = r.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code: r.status, lines, stderr: r.stderr };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'live-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeWithAssets([OFFLINE_MODEL, MEETING])('hybrid-asr live', () => {
  it('feeds a WAV file as a microphone and prints partial/final/tick events, then end with the full pass', async () => {
    const spool = join(dir, 'spool');
    const { code, lines, stderr } = live([MEETING, '--model', OFFLINE_MODEL, '--speed', 'max', '--interval', '10', '--context', '20', '--spool-dir', spool]);
    expect(stderr).not.toMatch(/hybrid-asr:/);
    expect(code).toBe(0);
    const types = new Set(lines.map((l) => l.type));
    expect([...types].sort()).toEqual(expect.arrayContaining(['end', 'final', 'partial', 'tick']));
    expect(lines.at(-1)!.type).toBe('end');
    const end = lines.at(-1) as { transcription: { text: string; segments: unknown[]; durationSec: number } };
    expect(end.transcription.durationSec).toBeGreaterThan(100);
    expect(end.transcription.text.length).toBeGreaterThan(100);
    const ticks = lines.filter((l) => l.type === 'tick');
    for (const t of ticks) expect(t).toMatchObject({ bytesRead: expect.any(Number), windowSec: expect.any(Number), processingSec: expect.any(Number), lagSec: expect.any(Number) });
    const finals = lines.filter((l) => l.type === 'final') as { segment: { start: number; end: number; text: string; words: { start: number; end: number }[] } }[];
    const words = finals.flatMap((f) => f.segment.words);
    expect(words.length).toBeGreaterThan(100);
    for (let i = 1; i < words.length; i++) expect(words[i]!.start).toBeGreaterThanOrEqual(words[i - 1]!.end);
    // --spool-dir keeps the spool: a valid WAV and a finalized journal.
    expect(JSON.parse(await readFile(join(spool, 'journal.json'), 'utf8')).finalized).toBe(true);
    expect((await stat(join(spool, 'audio.wav'))).size).toBeGreaterThan(3_000_000);
  });

  it('reads raw PCM from stdin with "-"', async () => {
    const wav = await readFile(MEETING);
    const pcm = wav.subarray(44, 44 + 32000 * 40); // 40 s
    const r = live(['-', '--model', OFFLINE_MODEL, '--speed', 'max', '--sample-rate', '16000', '--no-partials'], pcm);
    expect(r.code).toBe(0);
    expect(r.lines.some((l) => l.type === 'partial')).toBe(false);
    expect(r.lines.at(-1)).toMatchObject({ type: 'end', durationSec: expect.closeTo(40, 1) });
  });

  it('--recover finalizes the spool a killed session left behind', async () => {
    const spool = join(dir, 'crashed');
    // A session that was killed after 30 s: run one in a child and SIGKILL it once audio is spooled.
    const wav = await readFile(MEETING);
    const pcm = wav.subarray(44, 44 + 32000 * 30);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'chunking', 'fixtures', 'crash-after-spool.ts'), spool],
      { cwd: PROJECT_ROOT, input: pcm, encoding: 'utf8' },
    );
    expect(child.signal).toBe('SIGKILL');
    const r = live([spool, '--recover', '--model', OFFLINE_MODEL]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/recovered 30\.0 s of audio/);
    const end = r.lines.at(-1) as { type: string; durationSec: number; transcription: { text: string } };
    expect(end.type).toBe('end');
    expect(end.durationSec).toBeCloseTo(30, 1);
    expect(end.transcription.text.split(' ').length).toBeGreaterThan(20);
  });

  it('rejects bad flags with a one-line message and exit code 2', () => {
    const r = live([MEETING, '--model', OFFLINE_MODEL, '--speed', 'warp']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--speed must be realtime or max/);
    const r2 = live([MEETING, '--model', OFFLINE_MODEL, '--interval', '-3']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--interval/);
  });
});
