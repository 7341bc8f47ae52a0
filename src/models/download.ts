/**
 * Resumable, verified, atomic file downloads.
 * @module
 */
import { sleep } from '../internal/abort.js';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  APIStatusError,
  ASRError,
  ConnectionError,
  ConnectionTimeoutError,
  InvalidArgumentError,
  ModelError,
  throwIfAborted,
  toAbortError,
} from '../errors/index.js';
import { rootCause } from '../internal/causes.js';
import { definedOnly } from '../internal/options.js';
import { sha256File } from './validate.js';

/** Progress of a download. */
export interface DownloadProgress {
  /** Bytes of the file on disk so far (including bytes from an earlier, resumed attempt). */
  readonly receivedBytes: number;
  /** Size of the whole file, when the server or the caller said. */
  readonly totalBytes: number | undefined;
}

/** Options of {@link downloadFile}. */
interface DownloadOptions {
  /** Expected sha256 (hex) of the whole file; a mismatch deletes the download and throws {@link ModelError}. */
  readonly sha256?: string | undefined;
  /** Expected size in bytes; a mismatch is a {@link ModelError}. */
  readonly expectedSize?: number | undefined;
  /** Called as bytes arrive. */
  readonly onProgress?: (p: DownloadProgress) => void;
  /** Cancels the download; the `.partial` file is kept for a later resume. */
  readonly abortSignal?: AbortSignal | undefined;
  /** The fetch to use. @defaultValue globalThis.fetch */
  readonly fetch?: typeof fetch | undefined;
  /** How many times a failed connection or a 408/429/5xx is retried (each retry resumes). @defaultValue 2 */
  readonly retries?: number | undefined;
  /**
   * Most bytes the file may have: a larger `Content-Length` is refused before any byte is written,
   * and a body that goes past it is cut off and deleted ({@link ModelError}).
   * @defaultValue 4 GiB ({@link DEFAULT_MAX_DOWNLOAD_BYTES})
   */
  readonly maxBytes?: number | undefined;
  /**
   * A connection that delivers no byte (headers or body) for this long is dropped and retried
   * (resuming); when the retries are spent it is a {@link ConnectionTimeoutError}, and the
   * `.partial` file is kept for the next call to resume.
   * @defaultValue 30000
   */
  readonly stallTimeoutMs?: number | undefined;
}

/** Default download cap when the catalog gives no size (see `InstallOptions.maxBytes`): 4 GiB, above every published model archive. */
export const DEFAULT_MAX_DOWNLOAD_BYTES = 4 * 1024 ** 3;

/** What {@link downloadFile} did. */
interface DownloadResult {
  /** The downloaded file (`destPath`). */
  readonly path: string;
  /** sha256 (hex) of the whole file. */
  readonly sha256: string;
  /** Its size. */
  readonly bytes: number;
  /** Bytes that were already in `<dest>.partial` and were kept (0 when the download started afresh). */
  readonly resumedFrom: number;
}

interface PartialMeta {
  url: string;
  etag?: string | undefined;
  lastModified?: string | undefined;
}

async function fileSize(p: string): Promise<number> {
  try {
    return (await stat(p)).size;
  } catch {
    return 0;
  }
}


/**
 * Downloads `url` to `destPath`. Bytes go to `<destPath>.partial`; an interrupted download
 * resumes from there with an HTTP `Range` request (with `If-Range` when the server gave an ETag
 * or Last-Modified), and starts over when the server answers 200 instead of 206. The whole file
 * is hashed, checked against `sha256` / `expectedSize`, and only then renamed to `destPath`.
 *
 * @param url - http(s) URL.
 * @param destPath - where the file ends up.
 * @param options - checksum, size, progress, retries, fetch, abortSignal.
 */
export async function downloadFile(url: string, destPath: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const {
    sha256,
    expectedSize,
    onProgress,
    abortSignal,
    fetch: fetchImpl = globalThis.fetch,
    retries = 2,
    maxBytes = DEFAULT_MAX_DOWNLOAD_BYTES,
    stallTimeoutMs = 30_000,
  } = definedOnly(options);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidArgumentError(`\`url\` must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new InvalidArgumentError(`\`url\` must be an http(s) URL, got ${JSON.stringify(url)}`);
  if (typeof destPath !== 'string' || destPath === '') throw new InvalidArgumentError('`destPath` must be a non-empty path');
  if (sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(sha256)) throw new InvalidArgumentError(`\`sha256\` must be 64 hex digits, got ${JSON.stringify(sha256)}`);
  if (expectedSize !== undefined && (!Number.isInteger(expectedSize) || expectedSize < 0)) {
    throw new InvalidArgumentError(`\`expectedSize\` must be a whole number >= 0, got ${expectedSize}`);
  }
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError(`\`retries\` must be a whole number >= 0, got ${retries}`);
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new InvalidArgumentError(`\`maxBytes\` must be a whole number > 0, got ${maxBytes}`);
  if (!Number.isFinite(stallTimeoutMs) || stallTimeoutMs <= 0) throw new InvalidArgumentError(`\`stallTimeoutMs\` must be a number > 0, got ${stallTimeoutMs}`);
  if (expectedSize !== undefined && expectedSize > maxBytes) {
    throw new ModelError(`Download of ${url} is ${expectedSize} bytes, over the limit of ${maxBytes} bytes`, { path: destPath });
  }
  throwIfAborted(abortSignal);
  const tooLarge = (n: number): ModelError =>
    new ModelError(`Download of ${url} is larger than the limit of ${maxBytes} bytes (${n} bytes); the file was deleted (raise the limit with \`maxBytes\` / --max-size)`, { path: destPath });

  const partial = `${destPath}.partial`;
  const metaPath = `${destPath}.partial.json`;
  await mkdir(dirname(destPath), { recursive: true });

  let meta: PartialMeta | undefined;
  try {
    meta = JSON.parse(await readFile(metaPath, 'utf8')) as PartialMeta;
  } catch {
    meta = undefined;
  }
  if (meta?.url !== url) {
    // A partial file from another URL (or with no record) can't be trusted for a resume.
    await rm(partial, { force: true });
    meta = { url };
  }
  let resumedFrom = -1;
  let totalBytes = expectedSize;

  for (let attempt = 0; ; attempt++) {
    throwIfAborted(abortSignal);
    const offset = await fileSize(partial);
    if (expectedSize !== undefined && offset > expectedSize) await rm(partial, { force: true });
    const have = await fileSize(partial);
    const headers: Record<string, string> = { 'accept-encoding': 'identity' };
    if (have > 0) {
      headers.range = `bytes=${have}-`;
      const validator = meta.etag ?? meta.lastModified;
      if (validator) headers['if-range'] = validator;
    }
    let complete = false;
    // A stalled connection (no headers, or no body bytes for stallTimeoutMs) is dropped and retried.
    const stall = new AbortController();
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        stall.abort();
      }, stallTimeoutMs);
    };
    const signal = abortSignal ? AbortSignal.any([abortSignal, stall.signal]) : stall.signal;
    try {
      arm();
      const res = await fetchImpl(url, { headers, redirect: 'follow', signal });
      arm(); // the headers came: the body gets a full stallTimeoutMs for its first byte
      if (res.status === 416 && have > 0) {
        // The partial file is already complete, or the file changed: check it below, or start over.
        await res.body?.cancel();
        if (expectedSize !== undefined && have === expectedSize) {
          complete = true;
        } else {
          await rm(partial, { force: true });
          continue;
        }
      } else if (res.status !== 200 && res.status !== 206) {
        const text = await res.text().catch(() => '');
        throw APIStatusError.fromResponse(res.status, `Download of ${url} failed: HTTP ${res.status} ${res.statusText}${text ? ` (${text.slice(0, 200)})` : ''}`);
      } else {
        let start = 0;
        if (res.status === 206) {
          const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
          if (!m || Number(m[1]) !== have) {
            // A range we did not ask for: start over.
            await res.body?.cancel();
            await rm(partial, { force: true });
            if (attempt >= retries) throw new ConnectionError(`Server sent an unexpected Content-Range for ${url}`);
            continue;
          }
          start = have;
          if (m[3] !== '*') totalBytes = Number(m[3]);
        } else {
          const len = Number(res.headers.get('content-length') ?? NaN);
          if (Number.isFinite(len)) totalBytes = len;
        }
        if (totalBytes !== undefined && totalBytes > maxBytes) {
          await res.body?.cancel().catch(() => {});
          throw tooLarge(totalBytes);
        }
        if (resumedFrom < 0) resumedFrom = start;
        meta = {
          url,
          ...(res.headers.get('etag') ? { etag: res.headers.get('etag') as string } : {}),
          ...(res.headers.get('last-modified') ? { lastModified: res.headers.get('last-modified') as string } : {}),
        };
        await writeFile(metaPath, JSON.stringify(meta));
        const fh = await open(partial, start === 0 ? 'w' : 'a');
        let received = start;
        try {
          onProgress?.({ receivedBytes: received, totalBytes });
          if (res.body) {
            for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
              arm();
              if (received + chunk.byteLength > maxBytes) throw tooLarge(received + chunk.byteLength);
              await fh.write(chunk);
              received += chunk.byteLength;
              if (totalBytes !== undefined && received > totalBytes) {
                throw new ModelError(`Download of ${url} is larger than the expected ${totalBytes} bytes`, { path: destPath });
              }
              onProgress?.({ receivedBytes: received, totalBytes });
            }
          }
        } finally {
          await fh.close();
        }
        complete = true;
      }
    } catch (e) {
      if (abortSignal?.aborted) throw toAbortError(abortSignal, e);
      const err = stalled
        ? new ConnectionTimeoutError(`Download of ${url} stalled: no data for ${stallTimeoutMs / 1000} s`, { cause: e })
        : ASRError.isInstance(e)
          ? e
          : new ConnectionError(`Download of ${url} was interrupted: ${rootCause(e)}`, { cause: e });
      if (!err.isRetryable) {
        // Refused bytes (over the cap, larger than announced, an HTTP error) leave nothing behind.
        await rm(partial, { force: true });
        await rm(metaPath, { force: true });
        throw err;
      }
      // A connection that failed or stalled past its retries keeps its .partial (at most
      // maxBytes) so that the next call resumes it, as a cancelled one does.
      if (attempt >= retries) throw err;
      await sleep(Math.min(8000, 500 * 2 ** attempt) * (0.75 + Math.random() * 0.25), abortSignal);
      continue;
    }
    finally {
      clearTimeout(timer);
    }
    if (complete) break;
  }

  const bytes = await fileSize(partial);
  if (totalBytes !== undefined && bytes !== totalBytes) {
    await rm(partial, { force: true });
    await rm(metaPath, { force: true });
    throw new ModelError(`Download of ${url} has ${bytes} bytes, expected ${totalBytes}`, { path: destPath });
  }
  const digest = await sha256File(partial, abortSignal);
  if (sha256 !== undefined && digest !== sha256.toLowerCase()) {
    await rm(partial, { force: true });
    await rm(metaPath, { force: true });
    throw new ModelError(`Download of ${url} failed its checksum: sha256 is ${digest}, expected ${sha256.toLowerCase()}; the file was deleted`, {
      path: destPath,
    });
  }
  await rename(partial, destPath);
  await rm(metaPath, { force: true });
  return { path: destPath, sha256: digest, bytes, resumedFrom: Math.max(0, resumedFrom) };
}

