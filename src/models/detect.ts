/**
 * Recognises published sherpa-onnx release folders that have no `model.json`.
 * @module
 */
import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import { ModelError } from '../errors/index.js';
import type { ModelManifest } from './manifest.js';
import { readOnnxHeader } from './onnx.js';

/** Picks one variant among files that differ only by a `.int8` marker; undefined when ambiguous. */
function pickVariant(variants: string[]): string | undefined {
  if (variants.length === 1) return variants[0];
  if (variants.length === 2) {
    const [a, b] = [...variants].sort((x, y) => x.length - y.length) as [string, string];
    // "x" and "x.int8": prefer the int8 file, as sherpa-onnx's own examples do.
    if (b === `${a}.int8`) return b;
  }
  return undefined;
}

function ambiguous(dir: string, what: string, variants: string[]): never {
  throw new ModelError(
    `${dir} holds several ${what} variants (${variants.map((v) => JSON.stringify(v)).join(', ')}); write a model.json that names the files to use`,
    { path: dir },
  );
}

const STREAMING_KEYS = ['decode_chunk_len', 'T', 'window_size', 'chunk_shift'];

/**
 * Works out a manifest for a folder without `model.json`, from file names (transducer
 * encoder/decoder/joiner + tokens.txt, whisper `<x>-encoder/-decoder/-tokens.txt`, moonshine
 * preprocess/encode/uncached_decode/cached_decode) and, for single-file models, from the ONNX
 * metadata. Returns undefined when nothing is recognised; throws {@link ModelError} when the
 * layout is recognised but ambiguous.
 *
 * @param dir - the folder.
 */
export async function detectLayout(dir: string): Promise<ModelManifest | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile() || d.isSymbolicLink()).map((d) => d.name);
  } catch (e) {
    throw new ModelError(`Model folder ${dir} can't be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { path: dir, cause: e });
  }
  const has = (n: string): boolean => names.includes(n);
  const name = basename(dir);
  const lowerName = name.toLowerCase();

  // Transducer: encoder<suffix>.onnx, decoder<suffix>.onnx, joiner<suffix>.onnx, tokens.txt.
  const suffixes = names.flatMap((n) => {
    const m = /^encoder(.*)\.onnx$/.exec(n);
    return m && has(`decoder${m[1]}.onnx`) && has(`joiner${m[1]}.onnx`) ? [m[1] as string] : [];
  });
  if (suffixes.length > 0 && has('tokens.txt')) {
    const s = pickVariant(suffixes) ?? ambiguous(dir, 'transducer', suffixes.map((x) => `encoder${x}.onnx`));
    const files = { encoder: `encoder${s}.onnx`, decoder: `decoder${s}.onnx`, joiner: `joiner${s}.onnx`, tokens: 'tokens.txt' };
    let streaming = lowerName.includes('streaming') || lowerName.includes('online');
    if (!streaming && !lowerName.includes('offline')) {
      const header = await readOnnxHeader(`${dir}/${files.encoder}`);
      streaming = STREAMING_KEYS.some((k) => header.metadata.has(k));
    }
    return { name, kind: streaming ? 'streaming' : 'offline', family: 'transducer', files, sampleRate: 16000, ...languagesFrom(lowerName) };
  }

  // Whisper: <p>-encoder[.int8].onnx, <p>-decoder[.int8].onnx, <p>-tokens.txt.
  const whisper = names.flatMap((n) => {
    const m = /^(.+)-encoder(\.int8)?\.onnx$/.exec(n);
    return m && has(`${m[1]}-decoder${m[2] ?? ''}.onnx`) && has(`${m[1]}-tokens.txt`) ? [`${m[1]}|${m[2] ?? ''}`] : [];
  });
  if (whisper.length > 0) {
    const pick = pickVariant(whisper.map((w) => w.replace('|', ''))) ?? ambiguous(dir, 'whisper', whisper.map((w) => w.replace('|', '') + '-encoder.onnx'));
    const entry = whisper.find((w) => w.replace('|', '') === pick) as string;
    const [p, q] = entry.split('|') as [string, string];
    return {
      name,
      kind: 'offline',
      family: 'whisper',
      files: { encoder: `${p}-encoder${q}.onnx`, decoder: `${p}-decoder${q}.onnx`, tokens: `${p}-tokens.txt` },
      sampleRate: 16000,
      ...(p.endsWith('.en') ? { languages: ['en'] } : {}),
    };
  }

  // Moonshine (v1): preprocess.onnx, encode[.int8].onnx, uncached_decode[.int8].onnx, cached_decode[.int8].onnx.
  if (has('preprocess.onnx') && has('tokens.txt')) {
    const q = ['', '.int8'].filter((x) => has(`encode${x}.onnx`) && has(`uncached_decode${x}.onnx`) && has(`cached_decode${x}.onnx`));
    if (q.length > 0) {
      const s = pickVariant(q) ?? ambiguous(dir, 'moonshine', q);
      return {
        name,
        kind: 'offline',
        family: 'moonshine',
        files: {
          preprocessor: 'preprocess.onnx',
          encoder: `encode${s}.onnx`,
          uncached_decoder: `uncached_decode${s}.onnx`,
          cached_decoder: `cached_decode${s}.onnx`,
          tokens: 'tokens.txt',
        },
        sampleRate: 16000,
        ...languagesFrom(lowerName),
      };
    }
  }

  // One ONNX file (+ tokens.txt): read the family from the metadata.
  const onnx = names.filter((n) => n.endsWith('.onnx'));
  if (onnx.length === 0) return undefined;
  const single = pickVariant(onnx.map((n) => n.slice(0, -5)));
  if (single === undefined) return undefined;
  const file = `${single}.onnx`;
  const header = await readOnnxHeader(`${dir}/${file}`);
  const md = header.metadata;
  if (!has('tokens.txt')) {
    const framework = md.get('framework');
    if (framework !== undefined && md.has('output_dim')) {
      const sr = Number(md.get('sample_rate'));
      return { name, kind: 'speaker-embedding', family: '3d_speaker', files: { model: file }, sampleRate: Number.isInteger(sr) && sr > 0 ? sr : 16000 };
    }
    if (/silero/i.test(file) || /silero/.test(lowerName)) {
      return { name, kind: 'vad', family: 'silero_vad', files: { model: file }, sampleRate: 16000 };
    }
    return undefined;
  }
  const files = { model: file, tokens: 'tokens.txt' };
  const mt = md.get('model_type') ?? '';
  const base = { name, files, sampleRate: 16000, ...languagesFrom(lowerName) };
  if (mt === 'zipformer2_ctc') return { ...base, kind: 'offline', family: 'zipformer_ctc' };
  if (md.has('window_size') && md.has('cache_last_channel_dim1')) return { ...base, kind: 'streaming', family: 'nemo_ctc' };
  if (mt.startsWith('EncDec')) return { ...base, kind: 'offline', family: 'nemo_ctc' };
  if (md.has('encoder_dims') && md.has('decode_chunk_len')) return { ...base, kind: 'streaming', family: 'zipformer2_ctc' };
  if (md.has('lfr_window_size') && md.has('with_itn')) return { ...base, kind: 'offline', family: 'sense_voice' };
  if (md.has('lfr_window_size')) return { ...base, kind: 'offline', family: 'paraformer' };
  return undefined;
}

function languagesFrom(lowerName: string): { languages?: string[] } {
  const m = /-(en|zh|ja|ko|ru|de|fr|es)(-|$)/.exec(lowerName);
  return m ? { languages: [m[1] as string] } : {};
}
