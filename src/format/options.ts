import { InvalidArgumentError } from '../errors/index.js';
import { type Complete, definedOnly } from '../internal/options.js';

/** The output formats {@link formatTranscription} writes. */
export type OutputFormat = 'text' | 'json' | 'srt' | 'vtt';

/** Every output format, in the order the CLI lists them. */
export const OUTPUT_FORMATS: readonly OutputFormat[] = Object.freeze(['text', 'json', 'srt', 'vtt']);

/** Options of {@link toText}. */
export interface TextFormatOptions {
  /**
   * Prefix each speaker turn with its label (`S1: …`) when segments carry speakers.
   * @defaultValue true
   */
  readonly speakerLabels?: boolean | undefined;
}

/** Options of {@link toJson}. */
export interface JsonFormatOptions {
  /**
   * Indent with two spaces; `false` writes one line.
   * @defaultValue true
   */
  readonly pretty?: boolean | undefined;
}

/** Options of {@link toSrt}, {@link toVtt} and {@link buildCues}: how captions are laid out. */
export interface CaptionOptions {
  /**
   * Longest caption line, in characters (a single longer word gets a line of its own).
   * In SRT the `[S1] ` speaker prefix counts towards the first line.
   * @defaultValue 42
   */
  readonly maxLineChars?: number | undefined;
  /**
   * Most lines in one cue.
   * @defaultValue 2
   */
  readonly maxLines?: number | undefined;
  /**
   * Longest cue, in seconds (a single longer word gets a cue of its own).
   * @defaultValue 7
   */
  readonly maxCueSec?: number | undefined;
  /**
   * Mark speakers in cues (`<v S1>` in WebVTT, `[S1] ` in SRT) when segments or words carry them.
   * @defaultValue true
   */
  readonly speakerLabels?: boolean | undefined;
}

/** Options of {@link formatTranscription}: those of every format (each reads its own). */
export interface FormatOptions extends TextFormatOptions, JsonFormatOptions, CaptionOptions {}

/** {@link CaptionOptions} with the defaults filled in. */
export type ResolvedCaptionOptions = Complete<CaptionOptions>;

const CAPTION_DEFAULTS: ResolvedCaptionOptions = {
  maxLineChars: 42,
  maxLines: 2,
  maxCueSec: 7,
  speakerLabels: true,
};

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) return String(v);
  return typeof v;
}

function checkPositiveInt(name: string, v: unknown): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new InvalidArgumentError(`\`${name}\` must be a whole number >= 1, got ${describeValue(v)}`);
  }
}

function checkBoolean(name: string, v: unknown): void {
  if (typeof v !== 'boolean') {
    throw new InvalidArgumentError(`\`${name}\` must be a boolean, got ${describeValue(v)}`);
  }
}

function checkObject(options: unknown): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(`format options must be an object, got ${describeValue(options)}`);
  }
  return options as Record<string, unknown>;
}

/** Validates caption options and fills in defaults. @internal */
export function resolveCaptionOptions(options: CaptionOptions | undefined): ResolvedCaptionOptions {
  const o = { ...CAPTION_DEFAULTS, ...definedOnly(checkObject(options)) } as Record<string, unknown>;
  checkPositiveInt('maxLineChars', o.maxLineChars);
  checkPositiveInt('maxLines', o.maxLines);
  if (typeof o.maxCueSec !== 'number' || !Number.isFinite(o.maxCueSec) || o.maxCueSec <= 0) {
    throw new InvalidArgumentError(`\`maxCueSec\` must be a finite number > 0, got ${describeValue(o.maxCueSec)}`);
  }
  checkBoolean('speakerLabels', o.speakerLabels);
  return o as unknown as ResolvedCaptionOptions;
}

/** Validates text options and fills in defaults. @internal */
export function resolveTextOptions(options: TextFormatOptions | undefined): Complete<TextFormatOptions> {
  const o = { speakerLabels: true, ...definedOnly(checkObject(options)) } as Record<string, unknown>;
  checkBoolean('speakerLabels', o.speakerLabels);
  return o as unknown as Complete<TextFormatOptions>;
}

/** Validates JSON options and fills in defaults. @internal */
export function resolveJsonOptions(options: JsonFormatOptions | undefined): Complete<JsonFormatOptions> {
  const o = { pretty: true, ...definedOnly(checkObject(options)) } as Record<string, unknown>;
  checkBoolean('pretty', o.pretty);
  return o as unknown as Complete<JsonFormatOptions>;
}

/** Validates the options of every format at once and fills in defaults. @internal */
export function resolveFormatOptions(options: FormatOptions | undefined): Complete<FormatOptions> {
  const o = checkObject(options);
  const captions = resolveCaptionOptions(o);
  const json = resolveJsonOptions({ pretty: o.pretty } as JsonFormatOptions);
  return { ...captions, ...json };
}

/** Checks that `format` is one of {@link OUTPUT_FORMATS}. @internal */
export function checkFormat(format: unknown): asserts format is OutputFormat {
  if (!OUTPUT_FORMATS.includes(format as OutputFormat)) {
    throw new InvalidArgumentError(
      `\`format\` must be one of ${OUTPUT_FORMATS.join(', ')}, got ${describeValue(format)}`,
    );
  }
}

