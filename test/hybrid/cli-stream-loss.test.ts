/**
 * `hybrid-asr stream --backend auto --remote-url …` through the real parts (issue #13.2): when audio
 * is lost — here the server is SIGKILLed mid-stream and no native model is there to take over — the
 * run fails with a non-zero exit code and says how much audio the server never acknowledged; it
 * never ends with exit 0 and a warning.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AUDIO_DIR, describeWithAssets, MODELS_DIR, PROJECT_ROOT, STREAMING_MODEL } from '../helpers/shared.js';
import { kill, startServe, type ServeProcess } from '../remote/helpers.js';

const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-10min-01.wav');

describeWithAssets([STREAMING_MODEL, MEETING])('hybrid-asr stream --backend auto: lost audio is an error', () => {
  let serve: ServeProcess | undefined;
  const emptyModels = mkdtempSync(join(tmpdir(), 'hybrid-asr-no-models-'));
  afterAll(async () => {
    if (serve) await kill(serve.child);
    rmSync(emptyModels, { recursive: true, force: true });
  });

  it('the server SIGKILLed mid-way through a file fed faster than real time, nothing to fail over to: exit code 1, no `end`, the unacknowledged audio named', async () => {
    serve = await startServe(['-m', STREAMING_MODEL, '--port', '0', '--threads', '1'], { HYBRID_ASR_MODELS: MODELS_DIR });
    const server = serve.child;
    // No model on this side: the manager runs remote-only (it says so on stderr).
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/index.ts', 'stream', MEETING, '--backend', 'auto', '--remote-url', serve.url, '-m', 'tiny-ctc-en-streaming', '--progress', 'none'],
      { cwd: PROJECT_ROOT, env: { ...process.env, HYBRID_ASR_MODELS: emptyModels, HYBRID_ASR_DEBUG: '0', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    let finals = 0;
    let killed: Promise<void> | undefined;
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      finals = stdout.split('\n').filter((l) => l.includes('"type":"final"')).length;
      if (finals >= 3 && killed === undefined) killed = kill(server, 'SIGKILL');
    });
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    await killed;
    serve = undefined;

    expect(killed, `the server was never killed; stderr:\n${stderr}`).toBeDefined();
    const events = stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as { type: string; backend?: string });
    expect(events.filter((e) => e.type === 'final').length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.type !== 'final' || e.backend === 'remote')).toBe(true);
    expect(events.some((e) => e.type === 'end')).toBe(false);
    expect(stderr).toMatch(/no native backend .*using the remote only/);
    expect(stderr).toMatch(/could not resume .*the server has not acknowledged \d+\.\d\d s of audio from \d+\.\d\d s on/);
    expect(code).toBe(1);
  }, 120_000);
});
