import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Bearer-key checks in constant time, and short-lived HMAC tokens for browser WebSockets.
 * Keys are hashed on construction and never logged.
 * @internal
 */
export class Authenticator {
  readonly #digests: Buffer[];
  readonly #secret: Buffer;
  readonly #tokenTtlSec: number;
  readonly #now: () => number;

  constructor(keys: readonly string[], tokenTtlSec: number, now: () => number) {
    this.#digests = keys.map((k) => sha256(k));
    this.#secret = randomBytes(32);
    this.#tokenTtlSec = tokenTtlSec;
    this.#now = now;
  }

  /** Whether any key is configured (no keys = open server, loopback only). */
  get enabled(): boolean {
    return this.#digests.length > 0;
  }

  /** Checks a raw key against every configured key, without early exit. */
  checkKey(key: string | undefined): boolean {
    if (!this.enabled) return true;
    if (key === undefined || key === '') return false;
    const d = sha256(key);
    let ok = false;
    for (const k of this.#digests) ok = timingSafeEqual(k, d) || ok;
    return ok;
  }

  /** Checks an `Authorization: Bearer …` header value. */
  checkHeader(header: string | undefined): boolean {
    if (!this.enabled) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return this.checkKey(m?.[1]);
  }

  /** Issues a short-lived token for the streaming endpoint. */
  issueToken(): { token: string; expiresAt: number } {
    const expiresAt = Math.floor(this.#now() / 1000) + this.#tokenTtlSec;
    const payload = `${expiresAt}.${randomBytes(9).toString('base64url')}`;
    const mac = createHmac('sha256', this.#secret).update(payload).digest('base64url');
    return { token: `${payload}.${mac}`, expiresAt };
  }

  /** Checks a token issued by {@link Authenticator.issueToken} and not yet expired. */
  checkToken(token: string): boolean {
    const parts = token.split('.');
    if (parts.length !== 3) return false;
    const [exp = '', nonce = '', mac = ''] = parts;
    const expected = createHmac('sha256', this.#secret).update(`${exp}.${nonce}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const expiresAt = Number(exp);
    return Number.isFinite(expiresAt) && expiresAt * 1000 > this.#now();
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
