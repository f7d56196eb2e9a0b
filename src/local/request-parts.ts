// Headers, query strings and path parts of an incoming request, in the shapes API Gateway sends, parsed safely.
import type { IncomingMessage } from 'node:http';

/** A map keyed by client-chosen names (`__proto__`, `constructor` are ordinary keys): no prototype. */
function nameMap<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Single- and multi-value maps, as in proxy events. */
export interface MultiValueMaps {
  readonly single: Record<string, string> | null;
  readonly multi: Record<string, string[]> | null;
}

/** The request's headers with their original casing (repeated headers: last value single, all values multi). */
export function headerMaps(req: IncomingMessage): { single: Record<string, string>; multi: Record<string, string[]> } {
  const single = nameMap<string>();
  const multi = nameMap<string[]>();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    single[name] = value;
    (multi[name] ??= []).push(value);
  }
  const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
  for (const [name, value] of [
    ['X-Forwarded-For', sourceIp],
    ['X-Forwarded-Port', String(req.socket.localPort ?? '')],
    ['X-Forwarded-Proto', 'http'],
  ] as const) {
    if (!Object.keys(single).some((k) => k.toLowerCase() === name.toLowerCase())) {
      single[name] = value;
      multi[name] = [value];
    }
  }
  return { single, multi };
}

/** The query string as API Gateway passes it: null when there is none. */
export function queryMaps(url: URL): MultiValueMaps {
  if ([...url.searchParams.keys()].length === 0) return { single: null, multi: null };
  const single = nameMap<string>();
  const multi = nameMap<string[]>();
  for (const [key, value] of url.searchParams) {
    single[key] = value;
    (multi[key] ??= []).push(value);
  }
  return { single, multi };
}

/** A header value, case-insensitively. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The client's identity block of a requestContext. */
export function identityOf(req: IncomingMessage): { sourceIp: string; userAgent: string } {
  return { sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: header(req, 'user-agent') ?? '' };
}

/**
 * The request's URL on the stack's origin, or null when the target cannot be parsed. The target is always read as a
 * path (`//host/x` stays a path instead of naming a host), the way API Gateway reads it.
 */
export function requestUrl(req: IncomingMessage): URL | null {
  const target = req.url ?? '/';
  try {
    return new URL(`http://127.0.0.1${target.startsWith('/') ? target : `/${target}`}`);
  } catch {
    return null;
  }
}

/** A percent-decoded path segment, or null when its percent-encoding is malformed (`%ZZ`, a lone `%`, bad UTF-8). */
export function decodePathSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** The answer to a path whose percent-encoding is malformed, as API Gateway gives it: 400 with a JSON message. */
export const MALFORMED_PATH = Object.freeze({ message: 'Malformed percent-encoding in the request path' });
