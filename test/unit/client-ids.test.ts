// The client library's id-keyed records: ids such as __proto__ and constructor are ordinary keys.
import { entryFor, recordByUserId } from '../../src/client';
import type { UserInfo } from '../../src/client';

const info = (id: string): UserInfo => ({
  user_id: id,
  first_name: id,
  last_name: null,
  profile_image_extension: null,
});
const IDS = ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'valueOf'];

describe('recordByUserId and entryFor', () => {
  it('keeps every id as an own, serializable key', () => {
    const record = recordByUserId(IDS.map((id) => [id, info(id)] as const));
    expect(Object.keys(record)).toEqual(IDS);
    expect(Object.getPrototypeOf(record)).toBe(Object.prototype);
    expect(Object.keys(JSON.parse(JSON.stringify(record)) as object)).toEqual(IDS);
    for (const id of IDS) expect(entryFor(record, id)).toEqual(info(id));
  });

  it('finds nothing inherited for an id that is not in the map', () => {
    const parsed = JSON.parse('{"bob":{"user_id":"bob"}}') as Record<string, UserInfo>;
    for (const id of IDS) expect(entryFor(parsed, id)).toBeUndefined();
  });

  it('reads a __proto__ entry from a parsed userInfoMap', () => {
    const parsed = JSON.parse(JSON.stringify({ userInfoMap: recordByUserId([['__proto__', info('__proto__')]]) })) as {
      userInfoMap: Record<string, UserInfo>;
    };
    expect(entryFor(parsed.userInfoMap, '__proto__')).toEqual(info('__proto__'));
  });
});
