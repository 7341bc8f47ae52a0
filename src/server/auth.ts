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

  /**
   * Who a raw key is: `key:<n>` for the n-th configured key (compared with every key, without
   * early exit), `anonymous` on a keyless server, `undefined` when the key is wrong or missing.
   */
  principalOfKey(key: string | undefined): string | undefined {
    if (!this.enabled) return ANONYMOUS;
    if (key === undefined || key === '') return undefined;
    const d = sha256(key);
    let found = -1;
    this.#digests.forEach((k, i) => {
      if (timingSafeEqual(k, d)) found = i;
    });
    return found >= 0 ? `key:${found}` : undefined;
  }

  /** Checks a raw key against every configured key, without early exit. */
  checkKey(key: string | undefined): boolean {
    return this.principalOfKey(key) !== undefined;
  }

  /** Who an `Authorization: Bearer …` header is (see {@link Authenticator.principalOfKey}). */
  principalOfHeader(header: string | undefined): string | undefined {
    if (!this.enabled) return ANONYMOUS;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return this.principalOfKey(m?.[1]);
  }

  /** Checks an `Authorization: Bearer …` header value. */
  checkHeader(header: string | undefined): boolean {
    return this.principalOfHeader(header) !== undefined;
  }

  /**
   * Issues a short-lived token for the streaming endpoint, bound to `principal` (the credential
   * that asked for it): sessions opened with the token belong to that credential.
   */
  issueToken(principal: string): { token: string; expiresAt: number } {
    const expiresAt = Math.floor(this.#now() / 1000) + this.#tokenTtlSec;
    const payload = `${expiresAt}.${Buffer.from(principal).toString('base64url')}.${randomBytes(9).toString('base64url')}`;
    const mac = createHmac('sha256', this.#secret).update(payload).digest('base64url');
    return { token: `${payload}.${mac}`, expiresAt };
  }

  /** The principal a valid, unexpired token was issued to; `undefined` for any other string. */
  principalOfToken(token: string): string | undefined {
    const parts = token.split('.');
    if (parts.length !== 4) return undefined;
    const [exp = '', who = '', nonce = '', mac = ''] = parts;
    const expected = createHmac('sha256', this.#secret).update(`${exp}.${who}.${nonce}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const expiresAt = Number(exp);
    if (!(Number.isFinite(expiresAt) && expiresAt * 1000 > this.#now())) return undefined;
    return Buffer.from(who, 'base64url').toString();
  }

  /** Checks a token issued by {@link Authenticator.issueToken} and not yet expired. */
  checkToken(token: string): boolean {
    return this.principalOfToken(token) !== undefined;
  }
}

/** The principal of every request to a keyless (loopback-only) server. */
const ANONYMOUS = 'anonymous';

function sha256(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
