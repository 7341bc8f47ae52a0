/**
 * The audio limits of the package, in one place. Live audio (chunks given to `transcribeStream()`,
 * the live processor's and spool's `sampleRate`, the streaming protocol's `sample_rate`) has one
 * range everywhere, so a chunk accepted by one backend is accepted by every other; files (a WAV
 * header, raw PCM, decode targets) may go further because they are resampled before use.
 * @internal
 */

/** Lowest live-audio sample rate, Hz. */
export const MIN_LIVE_SAMPLE_RATE = 1000;
/** Highest live-audio sample rate, Hz (the highest common capture rate). */
export const MAX_LIVE_SAMPLE_RATE = 384_000;
/** Highest sample rate of a file or a resampling target, Hz. */
export const MAX_SAMPLE_RATE = 768_000;
/** Most channels in a file or a chunk. */
export const MAX_CHANNELS = 64;

/**
 * What is wrong with `value` as a live-audio sample rate (`name` is how the message calls it), or
 * `undefined` when it is a whole number of Hz in {@link MIN_LIVE_SAMPLE_RATE}..{@link MAX_LIVE_SAMPLE_RATE}.
 */
export function liveSampleRateProblem(value: unknown, name: string, min: number = MIN_LIVE_SAMPLE_RATE): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= MAX_LIVE_SAMPLE_RATE) return undefined;
  return `${name} must be a whole number of Hz from ${min} to ${MAX_LIVE_SAMPLE_RATE}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value) ?? typeof value}`;
}
