// The local stack's browser guard: which requests may reach /dev/* and @connections.
import { guardLocalRoute, isJsonContentType, requireJsonBody } from '../../src/local/browser-guard';

const options = {
  ownOrigins: ['http://127.0.0.1:3000', 'http://localhost:3000'],
  allowedOrigins: () => ['http://127.0.0.1:3000', 'https://app.example', 'chrome-extension://abcdefghijklmnop'],
};
const guard = (origin?: string, fetchSite?: string) => guardLocalRoute({ origin, fetchSite }, options);

describe('guardLocalRoute', () => {
  it.each([
    ['no Origin and no Sec-Fetch-Site (the AWS SDK, curl)', undefined, undefined],
    ['the stack’s own origin (the demo page)', 'http://127.0.0.1:3000', 'same-origin'],
    ['the stack on localhost', 'http://localhost:3000', 'cross-site'],
    ['an extension named in ALLOWED_ORIGINS', 'chrome-extension://abcdefghijklmnop', 'none'],
    ['a navigation typed by the user', undefined, 'none'],
  ])('lets through %s', (_name, origin, fetchSite) => {
    expect(guard(origin, fetchSite)).toBeUndefined();
  });

  it.each([
    ['another web origin', 'https://evil.example', 'cross-site'],
    ['a web origin allowed by CORS for the REST API', 'https://app.example', 'cross-site'],
    ['another port on the same host', 'http://127.0.0.1:8080', 'same-site'],
    ['an opaque origin (sandboxed frame, file://)', 'null', 'cross-site'],
    ['an extension not in ALLOWED_ORIGINS', 'chrome-extension://other', 'none'],
    ['a cross-site request without Origin (an image, a no-cors GET)', undefined, 'cross-site'],
    ['a same-site request without Origin', undefined, 'same-site'],
  ])('refuses %s with 403', (_name, origin, fetchSite) => {
    expect(guard(origin, fetchSite)).toMatchObject({ status: 403 });
  });
});

describe('requireJsonBody', () => {
  it.each(['application/json', 'Application/JSON; charset=utf-8'])('accepts a POST of %p', (contentType) => {
    expect(requireJsonBody({ method: 'POST', contentType })).toBeUndefined();
  });

  it.each([
    undefined,
    'text/plain',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonp',
  ])('refuses a POST of %p with 415', (contentType) => {
    expect(requireJsonBody({ method: 'POST', contentType })).toMatchObject({ status: 415 });
  });

  it('does not concern GET', () => {
    expect(requireJsonBody({ method: 'GET', contentType: undefined })).toBeUndefined();
    expect(isJsonContentType(undefined)).toBe(false);
  });
});
