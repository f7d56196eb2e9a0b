// Every activity validation rule of the contract, each answered with invalid_message naming the field.
import { parseActivity, parseClientMessage } from '../../src/layer/presence/messages';
import { ValidationError } from '../../src/layer/shared/errors';

/** What `fn` threw (undefined when it did not throw). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}
const update = (activity: string) => () => parseClientMessage(`{"action":"update-presence","activity":${activity}}`);

it('accepts strings, finite numbers and booleans under keys of [A-Za-z0-9_.-]{1,32}', () => {
  expect(parseActivity({ 'a.B-9_z': 'x', [`k${'x'.repeat(31)}`]: 1.5, on: false })).toEqual({
    'a.B-9_z': 'x',
    [`k${'x'.repeat(31)}`]: 1.5,
    on: false,
  });
});

it('accepts a string of exactly 256 characters and 16 keys', () => {
  expect(parseActivity({ s: 'x'.repeat(256) })).toEqual({ s: 'x'.repeat(256) });
  expect(
    Object.keys(parseActivity(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, i])))!),
  ).toHaveLength(16);
});

it.each([
  ['a key longer than 32 characters', `{"${'k'.repeat(33)}":1}`, /activity key/],
  ['an empty key', '{"":1}', /activity key/],
  ['a key with other characters', '{"a/b":1}', /activity key/],
  ['an object as a value', '{"pos":{"x":1}}', /activity\.pos/],
  ['an array as a value', '{"xs":[1]}', /activity\.xs/],
  ['null as a value', '{"n":null}', /activity\.n/],
  ['a number that is not finite', '{"x":1e999}', /activity\.x must be a finite number/],
  ['a string over 256 characters', `{"s":"${'x'.repeat(257)}"}`, /activity\.s must be at most 256/],
  [
    'more than 16 keys',
    JSON.stringify(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 1]))),
    /at most 16 keys/,
  ],
  [
    'more than 1 KB serialized',
    JSON.stringify(Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`k${i}`, 'x'.repeat(250)]))),
    /1024 bytes/,
  ],
  ['a string instead of an object', '"playing"', /activity must be an object or null/],
  ['a number instead of an object', '3', /activity must be an object or null/],
  ['an array instead of an object', '[1]', /activity must be an object or null/],
])('refuses %s with invalid_message naming the field', (_what, activity, message) => {
  expect(update(activity)).toThrow(ValidationError);
  expect(update(activity)).toThrow(message);
  expect(thrown(update(activity))).toMatchObject({ code: 'invalid_message' });
});

it('clears with null', () => {
  expect(update('null')()).toMatchObject({ action: 'update-presence', activity: null });
});
