// Client message validation (the contract's limits and error codes) and server message shapes.
import { ValidationError } from '../../src/layer/shared/errors';
import { parseClientMessage, presenceTimeoutMessage } from '../../src/layer/presence/messages';

const reject = (body: string) => {
  try {
    parseClientMessage(body);
  } catch (error) {
    return error as ValidationError;
  }
  throw new Error('expected a rejection');
};

it('accepts PageNow messages, ignores extra fields and keeps the jwt for renewal', () => {
  expect(parseClientMessage('{"action":"heartbeat","jwt":"x","extra":1}')).toEqual({ action: 'heartbeat', jwt: 'x' });
  expect(parseClientMessage('{"action":"update-presence","url":"https://a.com","title":"A","jwt":"x"}')).toEqual({
    action: 'update-presence',
    url: 'https://a.com',
    title: 'A',
    jwt: 'x',
  });
});

it('validates activity exactly: keys, value types and sizes, null clears', () => {
  const parse = (activity: unknown) => parseClientMessage(JSON.stringify({ action: 'update-presence', activity }));
  expect(parse({ realm: 'main', x: 10, y: -4, on: true })).toMatchObject({
    activity: { realm: 'main', x: 10, y: -4, on: true },
  });
  expect(parse(null)).toMatchObject({ activity: null });
  expect(() => parse({ 'bad key': 1 })).toThrow(/activity key/);
  expect(() => parse({ a: null })).toThrow(/activity.a/);
  expect(() => parse({ a: [1] })).toThrow(/activity.a/);
  expect(() => parse({ a: 'x'.repeat(257) })).toThrow(/activity.a must be at most 256/);
  expect(() => parse(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 1])))).toThrow(
    /at most 16 keys/,
  );
  expect(() => parse(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`k${i}`, 'x'.repeat(200)])))).toThrow(
    /1024 bytes/,
  );
  expect(() => parse([1])).toThrow(/activity must be an object/);
});

it('parses seq and subscribe', () => {
  expect(parseClientMessage('{"action":"update-presence","seq":7}')).toEqual({ action: 'update-presence', seq: 7 });
  expect(() => parseClientMessage('{"action":"update-presence","seq":-1}')).toThrow(/seq/);
  expect(parseClientMessage('{"action":"subscribe","detail":"status"}')).toEqual({
    action: 'subscribe',
    detail: 'status',
  });
  expect(() => parseClientMessage('{"action":"subscribe","detail":"some"}')).toThrow(/detail/);
});

it('treats an empty custom message as clearing it', () => {
  expect(parseClientMessage('{"action":"update-presence","message":""}')).toEqual({
    action: 'update-presence',
    message: null,
  });
  expect(parseClientMessage('{"action":"update-presence","message":null}')).toEqual({
    action: 'update-presence',
    message: null,
  });
});

it.each([
  ['{"action":"update-presence","url":"' + 'a'.repeat(2049) + '"}', 'invalid_message', /url/],
  ['{"action":"update-presence","title":"' + 't'.repeat(513) + '"}', 'invalid_message', /title/],
  ['{"action":"update-presence","message":"' + 'm'.repeat(141) + '"}', 'invalid_message', /message/],
  [
    '{"action":"update-presence","status":"offline"}',
    'invalid_message',
    /status must be one of online, away, busy, invisible/,
  ],
  ['{"action":"update-presence","pad":"' + 'p'.repeat(8200) + '"}', 'invalid_message', /8192 bytes/],
  ['nope', 'invalid_message', /JSON object/],
  ['null', 'invalid_message', /JSON object/],
  ['{"action":"dance"}', 'unknown_action', /dance/],
  ['{"action":7}', 'unknown_action', /no action/],
])('rejects %#: %s', (body, code, text) => {
  const error = reject(body);
  expect(error).toBeInstanceOf(ValidationError);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(text);
});

it('builds presence-timeout as the contract shows', () => {
  expect(presenceTimeoutMessage('bob', 1764000000000, 1764000000123)).toEqual({
    type: 'presence-timeout',
    userId: 'bob',
    lastSeen: 1764000000000,
    v: 1764000000123,
  });
});
