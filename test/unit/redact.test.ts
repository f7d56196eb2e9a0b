// Log redaction: tokens, secret query parameters and secret-named fields never reach a log line.
import { logger } from '../../src/layer/shared/logger';
import { REDACTED, loggableError, redactSecrets } from '../../src/layer/shared/redact';
import { captureOutput } from '../support/capture-output';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6ImxvY2FsIn0.eyJzdWIiOiJhbGljZSIsImV4cCI6OTk5OTk5OTk5OX0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU';

describe('redactSecrets', () => {
  it.each([
    [`GET /presence/%ZZ?Authorization=${JWT}`, 'GET /presence/%ZZ?Authorization=***'],
    [`/ws?status=away&token=opaque-secret&x=1`, '/ws?status=away&token=***&x=1'],
    [`https://h/p?access_token=abc#f`, 'https://h/p?access_token=***#f'],
    [`Authorization: Bearer ${JWT}`, 'Authorization: Bearer ***'],
    [`bare ${JWT} in text`, 'bare *** in text'],
    ['/presence/bob?status=away', '/presence/bob?status=away'],
  ])('%p -> %p', (text, expected) => {
    expect(redactSecrets(text)).toBe(expected);
  });
});

describe('loggableError', () => {
  it('keeps name, code and redacted message, stack and cause; drops other attributes', () => {
    let urlError: Error;
    try {
      new URL(`//[bad?Authorization=${JWT}`, 'http://127.0.0.1');
      throw new Error('expected a TypeError');
    } catch (error) {
      urlError = error as Error;
    }
    const wrapped = new Error(`request to https://h/p?token=${JWT} failed`, { cause: urlError });
    Object.assign(wrapped, { request: { headers: { Authorization: `Bearer ${JWT}` } } });

    const logged = loggableError(wrapped);

    expect(JSON.stringify(logged)).not.toContain(JWT);
    expect(logged).toMatchObject({
      name: 'Error',
      message: 'request to https://h/p?token=*** failed',
      cause: { name: 'TypeError', code: 'ERR_INVALID_URL' },
    });
    expect(logged).not.toHaveProperty('request');
    expect(logged.cause).not.toHaveProperty('input');
  });
});

describe('the service logger', () => {
  it('never prints a token, whatever a caller passes', () => {
    const output = captureOutput();
    try {
      const error = Object.assign(new TypeError('Invalid URL'), { input: `/presence?Authorization=${JWT}` });
      logger.error(`failed for /presence?Authorization=${JWT}`, {
        error,
        token: 'opaque-not-a-jwt',
        headers: { authorization: `Bearer ${JWT}`, Cookie: 'sid=1' },
        nested: [{ url: `wss://h/ws?token=${JWT}` }],
      });
    } finally {
      output.restore();
    }
    const out = output.text();
    expect(out).toContain('failed for /presence?Authorization=***');
    expect(out).not.toContain(JWT);
    expect(out).not.toContain('opaque-not-a-jwt');
    expect(out).not.toContain('sid=1');
    expect(JSON.parse(out)).toMatchObject({ token: REDACTED, error: { name: 'TypeError', message: 'Invalid URL' } });
  });
});
