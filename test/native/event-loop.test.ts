import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NativeBackend } from '../../src/backends/native/index.js';
import { AUDIO_DIR, OFFLINE_MODEL, VAD_MODEL, describeWithAssets } from '../helpers/shared.js';

const MEETING = join(AUDIO_DIR, 'meetings', 'meeting-short-01.wav');
const d = describeWithAssets([OFFLINE_MODEL, VAD_MODEL, MEETING]);
const { Vad } = createRequire(import.meta.url)('sherpa-onnx-node') as { Vad: { prototype: { acceptWaveform: (this: unknown, s: Float32Array) => void } } };
const original = Vad.prototype.acceptWaveform;

afterEach(() => {
  Vad.prototype.acceptWaveform = original;
});

d('NativeBackend.transcribe() keeps the event loop turning (issue #21)', () => {
  it('feeds the VAD of a long file in small slices, with turns of the event loop between them', async () => {
    // A setImmediate chain counts turns of the event loop; the VAD's 512-sample windows are
    // counted between two turns. Before the fix a whole read chunk (~8 s: 256 windows) or the
    // first decode window's catch-up went through the VAD in one turn.
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    let seen = -1;
    let run = 0;
    let longest = 0;
    let windows = 0;
    Vad.prototype.acceptWaveform = function (this: unknown, s: Float32Array): void {
      windows++;
      run = turns === seen ? run + 1 : 1;
      seen = turns;
      longest = Math.max(longest, run);
      original.call(this, s);
    };
    const b = new NativeBackend({ model: OFFLINE_MODEL, vadModel: VAD_MODEL, threads: 1 });
    try {
      const t = await b.transcribe(MEETING);
      expect(t.segments.length).toBeGreaterThan(1);
    } finally {
      running = false;
      await b.dispose();
    }
    expect(windows).toBeGreaterThan(1000); // the VAD did run over the ~100 s file
    // At most two 0.5 s slices (2 × 16 windows, a little slack for the partial window) per turn.
    expect(longest).toBeLessThanOrEqual(40);
  });
});
