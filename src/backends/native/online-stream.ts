import type { TranscriptionEvent } from '../../spec/index.js';
import { throwIfAborted } from '../../errors/index.js';
import type { VoiceActivityDetector } from '../../vad/index.js';
import { TrailingSilence } from './endpoint.js';
import type { LiveInput } from './live-input.js';
import type { LoadedOnline } from './loader.js';
import { OnlineRun } from './online-run.js';
import { yieldToLoop } from './yield.js';

/** Silence after speech that lets the VAD end an utterance early (fast endpointing), seconds. */
const FAST_ENDPOINT_SILENCE_SEC = 0.1;
/** Fast endpointing on frame energy: 0.1 s of frames 35 dB under the utterance's loudest. */
const ENERGY_ENDPOINT = { silenceSec: 0.1, dropDb: 35, minSpeechSec: 0.2 } as const;

/**
 * Live transcription with a streaming model: chunk by chunk with the model's endpointing
 * (partials grow; a final per utterance). With `fastEndpoint`, an utterance is finalised as soon
 * as the VAD (`createEndVad`, when a VAD is installed) or frame energy hears its speech end.
 *
 * @param createEndVad - builds the end-of-speech VAD, or `undefined` when there is none.
 */
export async function* onlineStream(
  l: LoadedOnline,
  input: LiveInput,
  createEndVad: ((minSilenceSec: number) => Promise<VoiceActivityDetector>) | undefined,
  fastEndpoint: boolean,
): AsyncGenerator<TranscriptionEvent> {
  const { norm, partials, signal } = input;
  const rate = l.model.manifest.sampleRate;
  const run = new OnlineRun(l.recognizer, rate, l.model);
  // Fast endpointing: when a VAD is available, an utterance is finalised as soon as the VAD
  // hears its speech end, instead of after the model's trailing-silence rule.
  // On clean audio, frame energy hears the end sooner still (TrailingSilence).
  const endVad = createEndVad && fastEndpoint ? await createEndVad(FAST_ENDPOINT_SILENCE_SEC) : undefined;
  const endEnergy = fastEndpoint ? new TrailingSilence(rate, ENERGY_ENDPOINT) : undefined;
  let lastPartial = '';
  /** Where the last utterance was cut, seconds: later VAD news about earlier speech is stale. */
  let cutSec = 0;
  /** An utterance ends here: the next partial starts afresh, earlier VAD news is stale. */
  const endUtterance = (): void => {
    lastPartial = '';
    cutSec = run.samples / rate;
    endEnergy?.reset();
  };
  for await (const chunk of input.audio) {
    throwIfAborted(signal);
    let rest = norm.push(chunk);
    // A chunk is fed up to where its utterance's speech ended (the next one may start in
    // the same chunk), the utterance is finalised there, then the rest is fed.
    while (rest.length > 0) {
      const n = endEnergy ? endEnergy.push(rest) : rest.length;
      const samples = rest.subarray(0, n);
      rest = rest.subarray(n);
      const r = run.feed(samples);
      const vadEnded = endVad !== undefined && endVad.push(samples).some((seg) => seg.end > cutSec);
      const energyEnded = endEnergy?.ended === true;
      if (r.final) {
        endUtterance();
        yield { type: 'final', segment: r.final };
      } else if (energyEnded || (vadEnded && lastPartial !== '')) {
        endUtterance();
        const seg = run.flushUtterance();
        if (seg) yield { type: 'final', segment: seg };
      } else if (partials && r.text !== lastPartial && r.text !== '') {
        lastPartial = r.text;
        yield { type: 'partial', text: r.text, start: run.segmentStartSec, end: run.samples / rate };
      }
    }
    await yieldToLoop();
  }
  const tail = norm.flush();
  if (tail.length) {
    const r = run.feed(tail);
    if (r.final) yield { type: 'final', segment: r.final };
  }
  const last = run.finish();
  if (last) yield { type: 'final', segment: last };
  yield { type: 'end', durationSec: run.samples / rate };
}
