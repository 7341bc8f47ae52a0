/**
 * Which browsers and which Host names may reach the server. A keyless server trusts its loopback
 * interface, so it must not be reachable from web pages (cross-site WebSocket hijacking, a
 * multipart POST from any site) nor through DNS rebinding (a hostile name resolving to
 * 127.0.0.1): without a key, a request's `Origin` (when a browser sends one) must be a loopback
 * origin or an allowed one, and its `Host` a loopback name or address.
 * @module
 */

/** Whether `hostname` (no port; brackets allowed around IPv6) names this machine's loopback. */
function isLoopbackName(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || h === '0:0:0:0:0:0:0:1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** The host name of a `Host` header value (`[::1]:8080` → `[::1]`), or undefined when malformed. */
function hostOf(hostHeader: string): string | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  return m?.[1];
}

/** What a request says about where it comes from. */
interface RequestOrigin {
  /** The `Host` header. */
  readonly host: string | undefined;
  /** The `Origin` header (browsers send it on cross-origin requests and every WebSocket). */
  readonly origin: string | undefined;
}

/** The server's origin policy. */
export interface OriginPolicy {
  /** Whether the server has no API key (then only loopback is trusted). */
  readonly keyless: boolean;
  /** Origins allowed besides loopback ones, exactly as browsers send them (`https://app.example`). */
  readonly allowedOrigins: readonly string[];
}

/** Whether a browser origin may use the server under `policy`. */
function originAllowed(origin: string, policy: OriginPolicy): boolean {
  if (policy.allowedOrigins.includes(origin)) return true;
  if (!policy.keyless) return policy.allowedOrigins.length === 0;
  if (origin === 'null') return false; // sandboxed frames, file:// pages
  try {
    const u = new URL(origin);
    return (u.protocol === 'http:' || u.protocol === 'https:') && isLoopbackName(u.hostname);
  } catch {
    return false;
  }
}

/**
 * Why a request is refused under `policy`, or `undefined` when it may proceed. With a key, the
 * key (or a token issued for it) is the credential and `Host` is not checked; an `Origin` is
 * checked only against an explicit allow-list. Without a key, both are checked.
 */
export function originRefusal(req: RequestOrigin, policy: OriginPolicy): string | undefined {
  if (policy.keyless) {
    const host = req.host === undefined ? undefined : hostOf(req.host);
    if (host === undefined || !isLoopbackName(host)) {
      return `Host ${JSON.stringify(req.host ?? '')} is not a loopback name; a server without an API key answers only requests addressed to localhost or 127.0.0.1`;
    }
  }
  if (req.origin !== undefined && !originAllowed(req.origin, policy)) {
    return `Origin ${JSON.stringify(req.origin)} is not allowed${policy.keyless ? ': a server without an API key accepts only loopback origins' : ''} (allow it with --allow-origin)`;
  }
  return undefined;
}
