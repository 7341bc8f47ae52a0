/** Shared by the real-parts hybrid tests: paced input, event helpers, a streaming native + remote manager. */
import { expect } from 'vitest';
import { NativeBackend } from '../../src/backends/native/index.js';
import { RemoteBackend } from '../../src/backends/remote/index.js';
import { HybridManager, MemorySettingsStore } from '../../src/hybrid/index.js';
import type { AudioChunk, TranscriptionEvent, Word } from '../../src/spec/index.js';
import { STREAMING_MODEL } from '../helpers/shared.js';
import { drain, finalWords as words } from './helpers.js';

export { drain, words };

/** 100 ms chunks, `delayMs` apart; `onSec(sec)` runs before the chunk that starts at `sec`. */
export async function* paced(samples: Float32Array, delayMs: number, onSec?: (sec: number) => Promise<void> | void): AsyncGenerator<AudioChunk> {
  const step = 1600;
  for (let i = 0; i < samples.length; i += step) {
    await onSec?.(i / 16_000);
    if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
    yield { samples: samples.slice(i, i + step), sampleRate: 16_000 };
  }
}

export function text(events: readonly TranscriptionEvent[]): string {
  return events.flatMap((e) => (e.type === 'final' ? [e.segment.text] : [])).join(' ');
}

/** Checks words are in time order, inside the audio, and never overlap a previous word. */
export function expectOneTimeline(ws: readonly Word[], durationSec: number): void {
  let prevEnd = 0;
  for (const w of ws) {
    expect(w.start).toBeGreaterThanOrEqual(prevEnd - 1e-6);
    expect(w.end).toBeGreaterThanOrEqual(w.start);
    expect(w.end).toBeLessThanOrEqual(durationSec + 0.5);
    prevEnd = w.end;
  }
}

/** Number of words (by midpoint) in each source clip. */
export function perClip(ws: readonly Word[], clips: readonly { start: number; end: number }[]): number[] {
  return clips.map((c) => ws.filter((w) => (w.start + w.end) / 2 >= c.start && (w.start + w.end) / 2 < c.end).length);
}

/** Native + remote streaming backends (the streaming test model) under a manager in remote mode. */
export function streamingHybrid(url: string, backoffInitialMs: number, backoffMaxMs: number): { native: NativeBackend; remote: RemoteBackend; hybrid: HybridManager } {
  const native = new NativeBackend({ model: STREAMING_MODEL, threads: 1 });
  const remote = new RemoteBackend({
    baseUrl: `${url}/v1`,
    model: 'tiny-ctc-en-streaming',
    streamModel: 'tiny-ctc-en-streaming',
    maxRetries: 0,
    healthTimeoutMs: 500,
    reconnect: { maxAttempts: 1, initialDelayMs: 50, maxDelayMs: 100 },
  });
  const hybrid = new HybridManager({
    native,
    remote,
    tier: 'pro-cloud',
    mode: 'remote',
    settings: new MemorySettingsStore(),
    network: { intervalMs: 60_000, backoffInitialMs, backoffMaxMs },
  });
  return { native, remote, hybrid };
}

