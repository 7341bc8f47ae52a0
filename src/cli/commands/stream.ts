import { Option, type Command } from 'commander';
import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openAudio } from '../../audio/index.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { AudioChunk, AudioInput } from '../../spec/index.js';
import { createCliBackend, type CliBackendOptions } from '../backend-factory.js';
import { action, parsePositiveInt, writeJsonLine } from '../io.js';
import { createProgress, formatClock, parseProgressMode, type ProgressMode, type ProgressReporter } from '../progress.js';

/** Parsed options of `hybrid-asr stream`. */
interface StreamFlags extends Pick<CliBackendOptions, 'backend' | 'model' | 'threads' | 'fastEndpoint' | 'remoteUrl' | 'apiKey' | 'tier' | 'fallback'> {
  readonly chunkMs: number;
  readonly realtime?: boolean | undefined;
  readonly rawRate?: number | undefined;
  readonly rawChannels: number;
  readonly language?: string | undefined;
  readonly progress: ProgressMode;
}

/** Registers `hybrid-asr stream <file|->`. */
export function register(program: Command): void {
  program
    .command('stream')
    .description('Transcribe a file or standard input as a live stream; prints one JSON event per line.')
    .argument('<file|->', 'a WAV file, or - for standard input (WAV, or raw s16le with --raw-rate)')
    .addOption(new Option('-b, --backend <backend>', 'which backend runs the model').choices(['native', 'remote', 'auto']).default('auto'))
    .option('-m, --model <id|dir>', 'model folder, name or catalog id (a streaming model is preferred)')
    .option('--chunk-ms <ms>', 'audio per chunk, milliseconds', parsePositiveInt('--chunk-ms'), 100)
    .option('--realtime', 'pace the input at real time, as a microphone would')
    .option('--raw-rate <hz>', 'standard input is raw 16-bit little-endian PCM at this rate', parsePositiveInt('--raw-rate'))
    .option('--raw-channels <n>', 'channels of raw standard input', parsePositiveInt('--raw-channels'), 1)
    .option('--language <code>', 'language of the audio (e.g. en)')
    .option('--threads <n>', 'CPU threads for the native backend', parsePositiveInt('--threads'))
    .option('--no-fast-endpoint', 'native streaming models: finals only by the model\'s trailing-silence rule (~1.3 s after speech), not as soon as the speech ends (~0.1 s)')
    .option('--remote-url <url>', 'server URL for the remote backend')
    .addOption(new Option('--api-key <key>', 'API key for the remote backend').env('HYBRID_ASR_API_KEY'))
    .option('--tier <tier>', 'subscription tier for --backend auto (free, pro, pro-cloud, team)')
    .addOption(new Option('--fallback <backend>', 'with --backend auto: fail over to native, or not').choices(['native', 'none']))
    .option('--progress <mode>', 'position on stderr: auto (a bar when stderr is a terminal) | bar | lines | none', parseProgressMode, 'auto')
    .addHelpText(
      'after',
      `
Output: {"type":"partial","text",…} (revisable), {"type":"final","segment":{start,end,text,words}},
and last {"type":"end","durationSec":…}; warnings and errors as {"type":"warning"|"error",…}.

Examples:
  hybrid-asr stream talk.wav --model tiny-ctc-en-streaming --realtime
  arecord -f S16_LE -r 16000 -c 1 -t raw | hybrid-asr stream - --raw-rate 16000`,
    )
    .action(action(run));
}

/** Raw s16le bytes from a stream, framed into whole samples. */
async function* rawPcm(source: AsyncIterable<Uint8Array>, rate: number, channels: number, chunkMs: number): AsyncGenerator<AudioChunk> {
  const frameBytes = 2 * channels;
  const want = Math.max(1, Math.round((rate * chunkMs) / 1000)) * frameBytes;
  let buf = Buffer.alloc(0);
  for await (const b of source) {
    buf = buf.length ? Buffer.concat([buf, b]) : Buffer.from(b);
    while (buf.length >= want) {
      const part = buf.subarray(0, want);
      buf = buf.subarray(want);
      yield { samples: new Int16Array(part.buffer.slice(part.byteOffset, part.byteOffset + part.length)), sampleRate: rate, channels };
    }
  }
  const whole = buf.length - (buf.length % frameBytes);
  if (whole > 0) yield { samples: new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + whole)), sampleRate: rate, channels };
}

/** Decoded mono chunks of `chunkMs` from a WAV source. */
async function* wavChunks(input: AudioInput, chunkMs: number, signal: AbortSignal): AsyncGenerator<AudioChunk> {
  const probe = await openAudio(input, { abortSignal: signal, chunkFrames: 1 << 14 });
  const frames = Math.max(1, Math.round((probe.sampleRate * chunkMs) / 1000));
  let pending = new Float32Array(0);
  for await (const c of probe) {
    const merged = new Float32Array(pending.length + c.length);
    merged.set(pending);
    merged.set(c, pending.length);
    let i = 0;
    for (; i + frames <= merged.length; i += frames) yield { samples: merged.slice(i, i + frames), sampleRate: probe.sampleRate };
    pending = merged.slice(i);
  }
  if (pending.length) yield { samples: pending, sampleRate: probe.sampleRate };
}

/** Reports the seconds of audio the backend has pulled, of `totalSec` when known. */
async function* counted(chunks: AsyncIterable<AudioChunk>, totalSec: number | undefined, progress: ProgressReporter): AsyncGenerator<AudioChunk> {
  let sec = 0;
  for await (const c of chunks) {
    sec += c.samples.length / (c.channels ?? 1) / c.sampleRate;
    progress.update(sec, totalSec);
    yield c;
  }
}

/** Paces chunks at real time. */
async function* paced(chunks: AsyncIterable<AudioChunk>, signal: AbortSignal): AsyncGenerator<AudioChunk> {
  const t0 = performance.now();
  let sent = 0;
  for await (const c of chunks) {
    const due = t0 + (sent * 1000) / c.sampleRate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait, undefined, { signal });
    sent += c.samples.length / (c.channels ?? 1);
    yield c;
  }
}

async function run(signal: AbortSignal, file: string, flags: StreamFlags): Promise<void> {
  if (file !== '-' && flags.rawRate !== undefined) throw new InvalidArgumentError('--raw-rate applies to standard input (-) only');
  let chunks: AsyncIterable<AudioChunk> =
    file === '-'
      ? flags.rawRate !== undefined
        ? rawPcm(process.stdin, flags.rawRate, flags.rawChannels, flags.chunkMs)
        : wavChunks(process.stdin, flags.chunkMs, signal)
      : wavChunks(file, flags.chunkMs, signal);
  let totalSec: number | undefined;
  if (file !== '-') {
    // Check the file before loading any model: a bad file is a quick, clear error.
    const reader = await openAudio(file);
    totalSec = reader.durationSec;
    await reader.close();
  }
  if (flags.realtime) chunks = paced(chunks, signal);
  const progress = await createProgress(flags.progress, { label: `streaming ${file === '-' ? 'standard input' : basename(file)}`, format: formatClock });
  chunks = counted(chunks, totalSec, progress);
  const backend = await createCliBackend({
    backend: flags.backend,
    streaming: true,
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    ...(flags.fastEndpoint === false ? { fastEndpoint: false } : {}),
    ...(flags.remoteUrl !== undefined ? { remoteUrl: flags.remoteUrl } : {}),
    ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    ...(flags.tier !== undefined ? { tier: flags.tier } : {}),
    ...(flags.fallback !== undefined ? { fallback: flags.fallback } : {}),
  });
  // The hybrid manager says which backend is running now; others are their own id.
  const producer = (): string => (backend as { currentBackend?: string | undefined }).currentBackend ?? backend.id;
  try {
    for await (const event of backend.transcribeStream(chunks, {
      abortSignal: signal,
      ...(flags.language !== undefined ? { language: flags.language } : {}),
    })) {
      if (event.type === 'error') {
        writeJsonLine({ type: 'error', code: event.error.code, message: event.error.message, recoverable: event.recoverable });
      } else writeJsonLine({ ...event, backend: producer() });
    }
  } finally {
    progress.stop();
    await backend.dispose();
  }
}
