// Page privacy rules: shareable URLs, stripping, host normalization, label-boundary allow/deny matching.
import {
  hostCandidates,
  isShared,
  normalizeHostEntries,
  normalizeHostEntry,
  registrableDomain,
  shareablePage,
} from '../../src/layer/presence/privacy';
import type { PrivacySettings } from '../../src/layer/presence/model';

const allow = (...domains: string[]): PrivacySettings => ({ shareMode: 'default_none', domains });
const deny = (...domains: string[]): PrivacySettings => ({ shareMode: 'default_all', domains });

describe('shareablePage', () => {
  it('strips the query string, fragment and credentials and keeps the registrable domain and the host', () => {
    expect(shareablePage('https://user:pw@en.wikipedia.org/wiki/Presence?utm=1#History', 'Presence')).toEqual({
      url: 'https://en.wikipedia.org/wiki/Presence',
      title: 'Presence',
      domain: 'wikipedia.org',
      host: 'en.wikipedia.org',
    });
  });

  it('uses the public suffix list for multi-label suffixes', () => {
    expect(shareablePage('http://news.bbc.co.uk/a', 'BBC')).toMatchObject({
      domain: 'bbc.co.uk',
      host: 'news.bbc.co.uk',
    });
  });

  it('gives Unicode hosts as punycode, lowercase, without the trailing dot, and keeps the port in the URL', () => {
    expect(shareablePage('https://WWW.Bücher.DE.:8443/buch?isbn=1#top', 'Buch')).toEqual({
      url: 'https://www.xn--bcher-kva.de.:8443/buch',
      title: 'Buch',
      domain: 'xn--bcher-kva.de',
      host: 'www.xn--bcher-kva.de',
    });
  });

  it('keeps IPs and localhost as their own domain and host', () => {
    expect(shareablePage('http://127.0.0.1:3000/x?token=1', 'L')).toMatchObject({
      url: 'http://127.0.0.1:3000/x',
      domain: '127.0.0.1',
      host: '127.0.0.1',
    });
    expect(shareablePage('http://[::1]:3000/', 'L')).toMatchObject({ domain: '[::1]', host: '[::1]' });
    expect(shareablePage('http://localhost/', 'L')).toMatchObject({ domain: 'localhost', host: 'localhost' });
  });

  it.each([
    'chrome://settings',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'about:blank',
    'ftp://example.com/file',
    'ws://example.com/socket',
    'not a url',
    '',
    'https://a!b.example/',
  ])('never shares %p', (url) => {
    expect(shareablePage(url, 'x')).toBeNull();
  });
});

describe('registrableDomain', () => {
  it('falls back to the host for IPs and localhost', () => {
    expect(registrableDomain('127.0.0.1')).toBe('127.0.0.1');
    expect(registrableDomain('localhost')).toBe('localhost');
    expect(registrableDomain('Docs.Google.com.')).toBe('google.com');
  });
});

describe('normalizeHostEntry', () => {
  it.each([
    ['docs.google.com', 'docs.google.com'],
    ['  Docs.Google.COM  ', 'docs.google.com'],
    ['google.com.', 'google.com'],
    ['*.google.com', 'google.com'],
    ['*.Google.com.', 'google.com'],
    ['https://*.google.com/', 'google.com'],
    ['https://www.Wikipedia.org/wiki/Main?x=1#y', 'www.wikipedia.org'],
    ['https://user:secret@docs.google.com:8443/d/1', 'docs.google.com'],
    ['docs.google.com:443', 'docs.google.com'],
    ['docs.google.com/spreadsheets', 'docs.google.com'],
    ['chrome-extension://abcdefgh/popup.html', 'abcdefgh'],
    ['bücher.de', 'xn--bcher-kva.de'],
    ['BÜCHER.DE', 'xn--bcher-kva.de'],
    ['xn--bcher-kva.de', 'xn--bcher-kva.de'],
    ['XN--BCHER-KVA.DE.', 'xn--bcher-kva.de'],
    ['*.bücher.de', 'xn--bcher-kva.de'],
    ['https://www.bücher.de/x', 'www.xn--bcher-kva.de'],
    ['ｇｏｏｇｌｅ。com', 'google.com'],
    ['localhost', 'localhost'],
    ['localhost:3000', 'localhost'],
    ['127.0.0.1', '127.0.0.1'],
    ['http://127.0.0.1:8080/', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['::1', '[::1]'],
    ['[::1]', '[::1]'],
    ['http://[::1]:3000/', '[::1]'],
    ['my_host.internal', 'my_host.internal'],
    ['com', 'com'],
  ])('%p -> %p', (entry, host) => {
    expect(normalizeHostEntry(entry)).toBe(host);
  });

  it.each([
    '',
    '   ',
    '*',
    '*.',
    '*.*.google.com',
    'a.*.com',
    '.google.com',
    'google..com',
    'google.com..',
    'exa mple.com',
    'a!b.com',
    '-google.com',
    'google-.com',
    'xn--zz.com',
    '1.2.3.999',
    'http://',
    `${'a'.repeat(64)}.com`,
    `${'abc.'.repeat(64)}com`,
    'https://[not-ip]/',
  ])('ignores %p (not a host name)', (entry) => {
    expect(normalizeHostEntry(entry)).toBeNull();
  });
});

describe('normalizeHostEntries', () => {
  it('normalizes, drops invalid entries and duplicates, and keeps the first spelling’s order', () => {
    expect(
      normalizeHostEntries(['Bücher.de', 'xn--bcher-kva.de', '', '*.', 'https://GitHub.com/x', 'github.com.']),
    ).toEqual(['xn--bcher-kva.de', 'github.com']);
  });
});

describe('hostCandidates', () => {
  it('lists the host and every parent at label boundaries', () => {
    expect(hostCandidates('a.b.example.com')).toEqual(['a.b.example.com', 'b.example.com', 'example.com', 'com']);
  });

  it('normalizes the host first (case, trailing dot, Unicode)', () => {
    expect(hostCandidates('Docs.Bücher.DE.')).toEqual(['docs.xn--bcher-kva.de', 'xn--bcher-kva.de', 'de']);
  });

  it('gives IPs only themselves, never partial addresses', () => {
    expect(hostCandidates('127.0.0.1')).toEqual(['127.0.0.1']);
    expect(hostCandidates('[::1]')).toEqual(['[::1]']);
    expect(hostCandidates('localhost')).toEqual(['localhost']);
  });

  it('is empty for something that is not a host name', () => {
    expect(hostCandidates('')).toEqual([]);
    expect(hostCandidates('a!b.com')).toEqual([]);
  });
});

describe('isShared', () => {
  it('default_none: an allowed subdomain shares that host and its subdomains, not its siblings or parent', () => {
    const settings = allow('docs.google.com');
    expect(isShared(settings, 'docs.google.com')).toBe(true);
    expect(isShared(settings, 'a.docs.google.com')).toBe(true);
    expect(isShared(settings, 'mail.google.com')).toBe(false);
    expect(isShared(settings, 'google.com')).toBe(false);
  });

  it('default_all: a denied domain hides itself and every subdomain', () => {
    const settings = deny('google.com');
    expect(isShared(settings, 'google.com')).toBe(false);
    expect(isShared(settings, 'mail.google.com')).toBe(false);
    expect(isShared(settings, 'a.b.docs.google.com')).toBe(false);
    expect(isShared(settings, 'example.com')).toBe(true);
  });

  it('matches only at label boundaries', () => {
    expect(isShared(deny('google.com'), 'notgoogle.com')).toBe(true);
    expect(isShared(deny('google.com'), 'google.com.evil.example')).toBe(true);
    expect(isShared(allow('google.com'), 'notgoogle.com')).toBe(false);
    expect(isShared(allow('ogle.com'), 'google.com')).toBe(false);
  });

  it('treats Unicode and punycode spellings as the same host, both ways', () => {
    expect(isShared(deny('bücher.de'), 'www.xn--bcher-kva.de')).toBe(false);
    expect(isShared(deny('xn--bcher-kva.de'), 'www.bücher.de')).toBe(false);
    expect(isShared(allow('BÜCHER.de'), 'xn--bcher-kva.de')).toBe(true);
    expect(isShared(allow('xn--bcher-kva.de'), 'Bücher.de')).toBe(true);
  });

  it('ignores case, a trailing dot and a *. prefix on both sides', () => {
    expect(isShared(allow('*.GitHub.com.'), 'GITHUB.COM.')).toBe(true);
    expect(isShared(allow('https://user:pw@github.com:443/x?y'), 'api.github.com')).toBe(true);
  });

  it('matches IPs and localhost exactly', () => {
    expect(isShared(allow('127.0.0.1'), '127.0.0.1')).toBe(true);
    expect(isShared(allow('0.0.1'), '127.0.0.1')).toBe(false);
    expect(isShared(deny('1'), '127.0.0.1')).toBe(true);
    expect(isShared(deny('localhost'), 'localhost')).toBe(false);
    expect(isShared(deny('::1'), '[::1]')).toBe(false);
  });

  it('ignores invalid entries: an allow list made only of them shares nothing, a deny list of them hides nothing', () => {
    expect(isShared(allow('*', '', 'not a host', '.com'), 'example.com')).toBe(false);
    expect(isShared(deny('*', '', 'not a host', '.com'), 'example.com')).toBe(true);
  });

  it('empty lists: default_none shares nothing, default_all shares everything', () => {
    expect(isShared(allow(), 'example.com')).toBe(false);
    expect(isShared(deny(), 'example.com')).toBe(true);
  });

  it('never shares a host that is not a host name, in either mode', () => {
    expect(isShared(deny(), '')).toBe(false);
    expect(isShared(deny(), 'a!b.com')).toBe(false);
  });

  it('agrees with shareablePage’s host', () => {
    const page = shareablePage('https://user@Docs.Google.com./d/1?x#y', 'Doc');
    expect(page && isShared(allow('docs.google.com'), page.host)).toBe(true);
    expect(page && isShared(allow('mail.google.com'), page.host)).toBe(false);
  });
});
