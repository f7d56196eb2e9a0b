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

it('accepts PageNow messages and ignores extra fields', () => {
  expect(parseClientMessage('{"action":"heartbeat","jwt":"x"}')).toEqual({ action: 'heartbeat' });
  expect(parseClientMessage('{"action":"update-presence","url":"https://a.com","title":"A","jwt":"x"}')).toEqual({
    action: 'update-presence',
    url: 'https://a.com',
    title: 'A',
  });
});

it('treats an empty custom message as clearing it', () => {
  expect(parseClientMessage('{"action":"update-presence","message":""}')).toEqual({ action: 'update-presence', message: null });
  expect(parseClientMessage('{"action":"update-presence","message":null}')).toEqual({ action: 'update-presence', message: null });
});

it.each([
  ['{"action":"update-presence","url":"' + 'a'.repeat(2049) + '"}', 'invalid_message', /url/],
  ['{"action":"update-presence","title":"' + 't'.repeat(513) + '"}', 'invalid_message', /title/],
  ['{"action":"update-presence","message":"' + 'm'.repeat(141) + '"}', 'invalid_message', /message/],
  ['{"action":"update-presence","status":"offline"}', 'invalid_message', /status must be one of online, away, busy, invisible/],
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
  expect(presenceTimeoutMessage('bob', 1764000000000)).toEqual({ type: 'presence-timeout', userId: 'bob', lastSeen: 1764000000000 });
});
