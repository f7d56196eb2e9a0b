// Page privacy rules: shareable URLs, stripping, registrable domains, allow/deny decisions.
import { isShared, normalizeDomainEntry, registrableDomain, shareablePage } from '../../src/layer/presence/privacy';

describe('shareablePage', () => {
  it('strips the query string, fragment and credentials and keeps the registrable domain', () => {
    expect(shareablePage('https://user:pw@en.wikipedia.org/wiki/Presence?utm=1#History', 'Presence')).toEqual({
      url: 'https://en.wikipedia.org/wiki/Presence',
      title: 'Presence',
      domain: 'wikipedia.org',
      host: 'en.wikipedia.org',
    });
  });

  it('uses the public suffix list for multi-label suffixes', () => {
    expect(shareablePage('http://news.bbc.co.uk/a', 'BBC')?.domain).toBe('bbc.co.uk');
  });

  it.each(['chrome://settings', 'file:///etc/passwd', 'javascript:alert(1)', 'about:blank', 'not a url', ''])(
    'never shares %p',
    (url) => {
      expect(shareablePage(url, 'x')).toBeNull();
    },
  );
});

describe('registrableDomain and normalizeDomainEntry', () => {
  it('falls back to the host for IPs and localhost', () => {
    expect(registrableDomain('127.0.0.1')).toBe('127.0.0.1');
    expect(registrableDomain('localhost')).toBe('localhost');
  });

  it('normalizes list entries written as URLs, subdomains or in capitals', () => {
    expect(normalizeDomainEntry('https://www.Wikipedia.org/wiki')).toBe('wikipedia.org');
    expect(normalizeDomainEntry(' en.wikipedia.org ')).toBe('wikipedia.org');
    expect(normalizeDomainEntry('')).toBe('');
  });
});

describe('isShared', () => {
  it('default_none shares only allowed domains', () => {
    const settings = { shareMode: 'default_none' as const, domains: ['github.com'] };
    expect(isShared(settings, 'github.com')).toBe(true);
    expect(isShared(settings, 'gitlab.com')).toBe(false);
  });

  it('default_all shares everything but denied domains', () => {
    const settings = { shareMode: 'default_all' as const, domains: ['facebook.com'] };
    expect(isShared(settings, 'facebook.com')).toBe(false);
    expect(isShared(settings, 'example.com')).toBe(true);
    expect(isShared(settings, '')).toBe(false);
  });
});
