import { describe, expect, it } from 'vitest';
import { progressSink } from '../../src/internal/progress.js';
import type { TranscriptionProgress } from '../../src/spec/index.js';
import { TestBackend } from '../../src/testing/index.js';

describe('onProgress', () => {
  it('is monotonic, throttled, capped at the total, and always ends at the total', async () => {
    const seen: TranscriptionProgress[] = [];
    const sink = progressSink((p) => seen.push(p), 10, 0);
    sink.update(2);
    sink.update(1); // backwards: dropped
    sink.update(4);
    sink.update(12); // beyond the total: capped
    sink.finish(10);
    sink.finish(10);
    sink.update(11);
    expect(seen).toEqual([
      { processedSec: 2, totalSec: 10 },
      { processedSec: 4, totalSec: 10 },
      { processedSec: 10, totalSec: 10 },
      { processedSec: 10, totalSec: 10 },
    ]);
    const throttled: TranscriptionProgress[] = [];
    const slow = progressSink((p) => throttled.push(p), undefined, 60_000);
    for (let i = 1; i <= 100; i++) slow.update(i);
    slow.finish(100);
    expect(throttled).toEqual([
      { processedSec: 1, totalSec: undefined },
      { processedSec: 100, totalSec: 100 },
    ]);
  });

  it('a throwing callback does not break the call', async () => {
    const b = new TestBackend({ script: [{ word: 'hi', start: 0.1, end: 0.3 }] });
    let calls = 0;
    const t = await b.transcribe(
      { format: 'f32', samples: new Float32Array(8000), sampleRate: 16000 },
      {
        onProgress: () => {
          calls++;
          throw new Error('boom');
        },
      },
    );
    expect(t.text).toBe('hi');
    expect(calls).toBe(1);
    await expect(b.transcribe(new Float32Array(10), { onProgress: 'x' as never })).rejects.toThrow(/onProgress/);
  });
});
