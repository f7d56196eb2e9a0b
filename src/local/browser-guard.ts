// Keeps web pages in the developer's browser away from the local stack's write routes (/dev/*, @connections).

/** Why a request was refused: the status and the JSON message to answer with. */
export interface Refusal {
  readonly status: 403 | 415;
  readonly message: string;
}

/** Who may call the guarded routes from a browser. */
export interface BrowserGuardOptions {
  /** The stack's own origins (`http://127.0.0.1:{port}`, `http://localhost:{port}`): the demo page. */
  readonly ownOrigins: readonly string[];
  /**
   * ALLOWED_ORIGINS: its `chrome-extension://` origins (the example extension's one-click dev token) are trusted too.
   * Web origins in it are not: CORS for the REST API is no licence to write to the stack.
   */
  readonly allowedOrigins: () => readonly string[];
}

/** Whether the request's media type is JSON (`application/json`, parameters such as `charset` allowed). */
export function isJsonContentType(value: string | undefined): boolean {
  return (value ?? '').split(';')[0]?.trim().toLowerCase() === 'application/json';
}

/**
 * The refusal for a request to a guarded route, or undefined when it may go on. A browser request is recognized by
 * what browsers always send and pages cannot forge: an `Origin` header (every CORS and every POST request) or
 * `Sec-Fetch-Site` (every request of a current browser). Non-browser clients (the AWS SDK, curl, the handlers' JWKS
 * fetch) send neither, and go on.
 */
export function guardLocalRoute(
  request: { readonly origin: string | undefined; readonly fetchSite: string | undefined },
  options: BrowserGuardOptions,
): Refusal | undefined {
  const trusted = (origin: string) =>
    options.ownOrigins.includes(origin) ||
    (origin.startsWith('chrome-extension://') && options.allowedOrigins().includes(origin));
  const crossSite = request.fetchSite === 'cross-site' || request.fetchSite === 'same-site';
  if (request.origin !== undefined ? !trusted(request.origin) : crossSite) {
    return {
      status: 403,
      message: 'Cross-origin requests to the local stack’s /dev and @connections routes are refused',
    };
  }
  return undefined;
}

/** The refusal for a `/dev/*` POST whose body is not declared JSON (so no HTML form can post one), or undefined. */
export function requireJsonBody(request: {
  readonly method: string;
  readonly contentType: string | undefined;
}): Refusal | undefined {
  if (request.method !== 'POST' || isJsonContentType(request.contentType)) return undefined;
  return { status: 415, message: 'Content-Type must be application/json' };
}
