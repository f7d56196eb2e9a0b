// Page privacy: which URLs may ever be shared, how they are stripped, and the allow/deny decision by host name.
import { getDomain } from 'tldts';
import type { Page, PrivacySettings } from './model';

/** A page that may be shared, with the normalized ASCII host the allow/deny lists are matched against. */
export type ShareablePage = Page & {
  /** Lowercase ASCII (punycode) host name, no trailing dot: what {@link hostCandidates} takes. */
  readonly host: string;
};

/** One DNS label: letters, digits, `_` and inner hyphens, at most 63 characters (ASCII after IDNA). */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
/** A dotted-quad IPv4 address, as the URL parser writes every IPv4 host. */
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/** A bracketed IPv6 literal, as the URL parser writes it. */
const IPV6 = /^\[[0-9a-f:.]+\]$/;
/** A scheme before `://`: only the authority after it is kept. */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

const isIp = (host: string): boolean => IPV4.test(host) || IPV6.test(host);

/**
 * A host name as the URL parser leaves it (lowercase, punycode, IPv4 in dotted quad) reduced to the form the lists
 * use: no trailing dot, every label valid. Null when it is not a host name.
 */
function validHost(hostname: string): string | null {
  const host = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
  if (host === '' || host.length > 253) return null;
  if (isIp(host)) return host;
  return host.split('.').every((label) => LABEL.test(label)) ? host : null;
}

/**
 * Normalizes an allow/deny list entry to a lowercase ASCII host name, or null when it is not a valid one.
 * A URL (`https://user@www.Example.com:8080/x?q`) is reduced to its host, a leading `*.` is dropped, Unicode becomes
 * punycode (`bücher.de` and `xn--bcher-kva.de` are the same entry), case and a trailing dot do not matter.
 */
export function normalizeHostEntry(entry: string): string | null {
  let authority = entry.trim().replace(SCHEME, '');
  if (authority === '') return null;
  // A bare IPv6 address ("::1") is written in brackets in URLs.
  if (/^[0-9a-f:.]+$/i.test(authority) && authority.split(':').length > 2) authority = `[${authority}]`;
  let hostname: string;
  try {
    hostname = new URL(`http://${authority}`).hostname;
  } catch {
    return null;
  }
  if (hostname.startsWith('*.')) hostname = hostname.slice(2);
  return validHost(hostname);
}

/**
 * The entries a page on `host` matches: the normalized host itself and every parent at a label boundary, e.g.
 * `a.b.example.com` -> `[a.b.example.com, b.example.com, example.com, com]`; an IP address only matches itself.
 * Empty when `host` is not a valid host name (such a page matches nothing).
 */
export function hostCandidates(host: string): string[] {
  const normalized = normalizeHostEntry(host);
  if (normalized === null) return [];
  if (isIp(normalized)) return [normalized];
  const labels = normalized.split('.');
  return labels.map((_, i) => labels.slice(i).join('.'));
}

/** The registrable domain (eTLD+1) of a host name; the host itself for IPs, `localhost` and private names. */
export function registrableDomain(host: string): string {
  const normalized = host.toLowerCase().replace(/\.$/, '');
  return getDomain(normalized, { allowPrivateDomains: false }) ?? normalized;
}

/**
 * The shareable form of a page: http(s) only, query string, fragment and credentials removed, registrable domain
 * (what friends see) and normalized host (what the lists match) computed. Null when the page can never be shared
 * (other schemes, unparsable URLs, hosts that are not host names).
 */
export function shareablePage(url: string, title: string): ShareablePage | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const host = validHost(parsed.hostname);
  if (host === null) return null;
  const domain = registrableDomain(host);
  parsed.search = '';
  parsed.hash = '';
  parsed.username = '';
  parsed.password = '';
  return { url: parsed.toString(), title, domain, host };
}

/**
 * Whether a page on `host` may be shared: `default_none` shares it only when it matches an (allowed) entry,
 * `default_all` unless it matches a (denied) one. A host matches an entry when it equals it or is a subdomain of it
 * at a label boundary. Entries that are not host names are ignored; a host that is not one is never shared. The
 * Redis `update` script applies the same rule atomically to the cached settings, with {@link hostCandidates}.
 */
export function isShared(settings: PrivacySettings, host: string): boolean {
  const candidates = hostCandidates(host);
  if (candidates.length === 0) return false;
  const entries = new Set(normalizeHostEntries(settings.domains));
  const listed = candidates.some((candidate) => entries.has(candidate));
  return settings.shareMode === 'default_all' ? !listed : listed;
}

/** A settings list as the store caches it: normalized hosts, invalid entries dropped, duplicates removed, in order. */
export function normalizeHostEntries(entries: readonly string[]): string[] {
  const hosts = new Set<string>();
  for (const entry of entries) {
    const host = normalizeHostEntry(entry);
    if (host !== null) hosts.add(host);
  }
  return [...hosts];
}

/** The settings of a user the directory does not know: share nothing. */
export const SHARE_NOTHING: PrivacySettings = Object.freeze({ shareMode: 'default_none', domains: [] });
