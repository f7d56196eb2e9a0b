// The client library's "active N ago" wording, shared by the extension popup and the demo page.
import { ago } from '../../src/client/format';

it.each([
  [null, 'never'],
  [0, 'never'],
  [1_000_000 - 30_000, 'just now'],
  [1_000_000 - 3 * 60_000, '3 min ago'],
  [1_000_000 - 2 * 3_600_000, '2 h ago'],
  [1_000_000 - 4 * 86_400_000, '4 d ago'],
])('ago(%p) is %p', (epochMs, text) => {
  expect(ago(epochMs, 1_000_000)).toBe(text);
});
