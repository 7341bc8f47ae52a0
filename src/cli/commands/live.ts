import type { Command } from 'commander';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ChunkedLiveProcessor, type LiveEvent } from '../../chunking/index.js';
import { ASRError, InvalidArgumentError } from '../../errors/index.js';
import { createCliBackend } from '../backend-factory.js';
import { action, parsePositiveInt, parsePositiveNumber, writeJsonLine } from '../io.js';
import { createProgress, formatClock, parseProgressMode, type ProgressMode, type ProgressReporter } from '../progress.js';
import { openAudio } from '../../audio/index.js';
import type { AudioChunk } from '../../spec/index.js';

interface LiveFlags {
  readonly model?: string | undefined;
  readonly backend: 'native' | 'remote' | 'auto';
  readonly remoteUrl?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly threads?: number | undefined;
  readonly interval: number;
  readonly context: number;
  readonly spoolDir?: string | undefined;
  readonly speed: string;
  readonly mode: string;
  readonly diarize?: boolean | undefined;
  readonly partials: boolean;
  readonly sampleRate: number;
  readonly channels: number;
  readonly chunkMs: number;
  readonly recover?: boolean | undefined;
  readonly progress: ProgressMode;
}

/** JSON line for one event (the same shapes as `hybrid-asr stream`). */
function toJson(e: LiveEvent): unknown {
  if (e.type === 'error') return { type: 'error', code: e.error.code, message: e.error.message, recoverable: e.recoverable };
  return e;
}

/**
 * Registers `hybrid-asr live <file|->`: feeds a WAV file (or raw 16-bit PCM on stdin) to the live
 * processor as if it were a microphone and prints one JSON event per line: `partial`, `final`,
 * `tick`, `lag`, `speaker-remap`, `error`, and last `end` with the finalized full-pass transcript.
 */
export function register(program: Command): void {
  program
    .command('live')
    .description('Live transcription of a file or stdin PCM fed as a microphone; one JSON event per line')
    .argument('<input>', 'WAV file, "-" for raw 16-bit little-endian PCM on stdin, or a spool folder with --recover')
    .option('-m, --model <model>', 'model folder, name under HYBRID_ASR_MODELS, or catalog id')
    .option('-b, --backend <backend>', 'native | remote | auto', 'native')
    .option('--remote-url <url>', 'server URL for --backend remote/auto')
    .option('--api-key <key>', 'API key for the server (or HYBRID_ASR_API_KEY)')
    .option('--threads <n>', 'CPU threads for the native backend', parsePositiveInt('--threads'))
    .option('--interval <sec>', 'seconds of new audio between live ticks', parsePositiveNumber('--interval'), 15)
    .option('--context <sec>', 'longest look-back re-read per tick, seconds', parseNonNegative('--context'), 30)
    .option('--spool-dir <dir>', 'folder for the spooled audio and journal (kept); default a temporary folder (removed)')
    .option('--speed <speed>', 'realtime | max: pace of feeding the input', 'realtime')
    .option('--mode <mode>', 'auto | windowed | streaming', 'auto')
    .option('--diarize', 'label speakers in the final transcript')
    .option('--no-partials', 'do not print partial events')
    .option('--sample-rate <hz>', 'sample rate of stdin PCM', parsePositiveInt('--sample-rate'), 16000)
    .option('--channels <n>', 'channels of stdin PCM', parsePositiveInt('--channels'), 1)
    .option('--chunk-ms <ms>', 'size of each fed chunk in milliseconds', parsePositiveInt('--chunk-ms'), 100)
    .option('--recover', '<input> is the spool folder of a crashed session: recover and finalize it')
    .option('--progress <mode>', 'position on stderr: auto (a bar when stderr is a terminal) | bar | lines | none', parseProgressMode, 'auto')
    .action(action(runReportingErrors));
}

/**
 * `run`, and when it fails (a full or read-only disk, a locked spool…) an `error` event on stdout
 * before the one-line message on stderr, so that a consumer of the JSON lines sees why it ended.
 */
async function runReportingErrors(signal: AbortSignal, input: string, flags: LiveFlags): Promise<void> {
  const reported = { fatal: false };
  try {
    await run(signal, input, flags, reported);
  } catch (e) {
    // The processor's own non-recoverable `error` event, when it sent one, already said why.
    if (!signal.aborted && !reported.fatal) {
      const err = ASRError.isInstance(e) ? e : undefined;
      writeJsonLine({ type: 'error', code: err?.code ?? 'error', message: e instanceof Error ? e.message : String(e), recoverable: false });
    }
    throw e;
  }
}

function parseNonNegative(flag: string): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a number >= 0, got "${value}"`);
    return n;
  };
}

async function run(signal: AbortSignal, input: string, flags: LiveFlags, reported: { fatal: boolean }): Promise<void> {
  if (flags.speed !== 'realtime' && flags.speed !== 'max') {
    throw new InvalidArgumentError(`--speed must be realtime or max, got "${flags.speed}"`);
  }
  if (flags.mode !== 'auto' && flags.mode !== 'windowed' && flags.mode !== 'streaming') {
    throw new InvalidArgumentError(`--mode must be auto, windowed or streaming, got "${flags.mode}"`);
  }
  if (!['native', 'remote', 'auto'].includes(flags.backend)) {
    throw new InvalidArgumentError(`--backend must be native, remote or auto, got "${flags.backend}"`);
  }
  const mode: 'auto' | 'windowed' | 'streaming' = flags.mode;
  const backend = await createCliBackend({
    backend: flags.backend,
    streaming: mode !== 'windowed',
    ...(flags.model !== undefined ? { model: flags.model } : {}),
    ...(flags.remoteUrl !== undefined ? { remoteUrl: flags.remoteUrl } : {}),
    ...(flags.apiKey !== undefined ? { apiKey: flags.apiKey } : {}),
    ...(flags.threads !== undefined ? { threads: flags.threads } : {}),
    ...(flags.diarize ? { diarize: true } : {}),
  });
  const print = (e: LiveEvent): void => {
    if (e.type === 'partial' && !flags.partials) return;
    if (e.type === 'error' && !e.recoverable) reported.fatal = true;
    writeJsonLine(toJson(e));
  };
  const common = {
    backend,
    intervalSec: flags.interval,
    contextSec: flags.context,
    mode,
    abortSignal: signal,
    ...(flags.diarize ? { diarization: true } : {}),
  };
  try {
    if (flags.recover) {
      const p = await ChunkedLiveProcessor.recover(input, common);
      subscribe(p, print);
      for (const w of p.recovered!.warnings) {
        writeJsonLine({ type: 'warning', warning: w });
        process.stderr.write(`hybrid-asr: warning: ${w.message}\n`);
      }
      process.stderr.write(`hybrid-asr: recovered ${p.recovered!.audioSec.toFixed(1)} s of audio, ${p.recovered!.committedWords} committed words\n`);
      await p.stop();
      return;
    }
    let source: LiveSource | undefined;
    let progress: ProgressReporter | undefined;
    const spoolDir = flags.spoolDir ?? (await mkdtemp(join(tmpdir(), 'hybrid-asr-live-')));
    try {
      source = await openLiveSource(input, { sampleRate: flags.sampleRate, channels: flags.channels, chunkMs: flags.chunkMs, abortSignal: signal });
      const p = new ChunkedLiveProcessor({ ...common, spoolDir, sampleRate: source.sampleRate, channels: source.channels });
      subscribe(p, print);
      await p.start();
      const started = performance.now();
      let fedSec = 0;
      progress = await createProgress(flags.progress, { label: `live ${input === '-' ? 'standard input' : basename(input)}`, format: formatClock });
      for await (const pcm of source.chunks) {
        await p.push(pcm, { abortSignal: signal });
        fedSec += pcm instanceof Uint8Array ? pcm.byteLength / (2 * source.channels * source.sampleRate) : pcm.samples.length / source.sampleRate;
        progress.update(fedSec, source.durationSec);
        if (flags.speed === 'max') {
          await p.onIdle();
        } else {
          const ahead = fedSec * 1000 - (performance.now() - started);
          if (ahead > 0) await sleep(ahead, undefined, { signal });
        }
      }
      progress.stop();
      await p.stop({ abortSignal: signal });
    } catch (e) {
      if (signal.aborted) process.stderr.write(`hybrid-asr: interrupted; the spool is kept in ${spoolDir} (resume with: hybrid-asr live --recover ${spoolDir})\n`);
      throw e;
    } finally {
      progress?.stop();
      await source?.close();
      if (flags.spoolDir === undefined && !signal.aborted) await rm(spoolDir, { recursive: true, force: true });
    }
  } finally {
    await backend.dispose();
  }
}

/** Audio fed as if from a microphone: chunks of one format. */
interface LiveSource {
  readonly sampleRate: number;
  readonly channels: number;
  /** Length in seconds when known (files). */
  readonly durationSec: number | undefined;
  readonly chunks: AsyncIterable<Uint8Array | AudioChunk>;
  close(): Promise<void>;
}

/** A WAV file (mono chunks, its own rate) or raw 16-bit PCM from stdin (`-`), in `chunkMs` pieces. */
async function openLiveSource(
  input: string,
  o: { sampleRate: number; channels: number; chunkMs: number; abortSignal: AbortSignal },
): Promise<LiveSource> {
  if (input === '-') {
    const frameBytes = 2 * o.channels;
    const chunkBytes = Math.max(1, Math.round((o.chunkMs / 1000) * o.sampleRate)) * frameBytes;
    async function* pieces(): AsyncGenerator<Uint8Array> {
      let pending: Buffer = Buffer.alloc(0);
      for await (const data of process.stdin as AsyncIterable<Buffer>) {
        pending = pending.length === 0 ? data : Buffer.concat([pending, data]);
        while (pending.length >= chunkBytes) {
          yield pending.subarray(0, chunkBytes);
          pending = pending.subarray(chunkBytes);
        }
      }
      const whole = pending.length - (pending.length % frameBytes);
      if (whole > 0) yield pending.subarray(0, whole);
    }
    return { sampleRate: o.sampleRate, channels: o.channels, durationSec: undefined, chunks: pieces(), close: async () => undefined };
  }
  const probe = await openAudio(input, { abortSignal: o.abortSignal });
  const rate = probe.sampleRate;
  await probe.close();
  const reader = await openAudio(input, {
    abortSignal: o.abortSignal,
    chunkFrames: Math.max(1, Math.round((o.chunkMs / 1000) * rate)),
  });
  async function* chunks(): AsyncGenerator<AudioChunk> {
    for await (const samples of reader) yield { samples, sampleRate: rate, channels: 1 };
  }
  return { sampleRate: rate, channels: 1, durationSec: reader.durationSec, chunks: chunks(), close: () => reader.close() };
}

function subscribe(p: ChunkedLiveProcessor, print: (e: LiveEvent) => void): void {
  for (const t of ['partial', 'final', 'diarization', 'tick', 'lag', 'speaker-remap', 'error', 'end'] as const) {
    p.on(t, (e: LiveEvent) => print(e));
  }
}
