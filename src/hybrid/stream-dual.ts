import type { ASRBackend, Segment, StreamConfig, Transcription } from '../spec/index.js';
import type { AudioFeed } from './audio-feed.js';
import { fitLanguage } from './selection.js';

/**
 * Dual mode for streams: the other backend reads the same audio from the start, alongside the one
 * the caller hears; its finals become a transcript to compare at the end. Resolves `undefined` when
 * it failed (there is then no comparison); stops when `stop` aborts.
 * @internal
 */
export async function runDualStreamSide(backend: ASRBackend, feed: AudioFeed, config: StreamConfig, stop: AbortSignal): Promise<Transcription | undefined> {
  const segments: Segment[] = [];
  const t0 = performance.now();
  try {
    for await (const ev of backend.transcribeStream(feed.reader(0, () => !stop.aborted), { ...fitLanguage(backend.capabilities, config), abortSignal: stop })) {
      if (ev.type === 'final') segments.push(ev.segment);
    }
  } catch {
    return undefined;
  }
  return {
    text: segments.map((s) => s.text.trim()).filter((t) => t !== '').join(' '),
    segments,
    durationSec: feed.totalSec,
    processingTimeSec: (performance.now() - t0) / 1000,
    backend: backend.id,
    warnings: [],
  };
}
