// Page privacy: which URLs may ever be shared, how they are stripped, and the allow/deny decision by registrable domain.
import { getDomain, getHostname } from 'tldts';
import type { PrivacySettings } from './model';
import type { PageCandidate } from './ports';

/**
 * The shareable form of a page: http(s) only, query string and fragment removed, registrable domain computed.
 * Returns null when the page can never be shared (other schemes, unparsable URLs).
 */
export function shareablePage(url: string, title: string): PageCandidate | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return null;
  const domain = registrableDomain(parsed.hostname);
  if (domain === '') return null;
  parsed.search = '';
  parsed.hash = '';
  parsed.username = '';
  parsed.password = '';
  // URL gives the host lowercased and in ASCII (punycode), without a trailing dot once stripped.
  const host = parsed.hostname.replace(/\.$/, '');
  return { url: parsed.toString(), title, domain, host };
}

/** The registrable domain (eTLD+1) of a host name; the host itself for IPs, `localhost` and private names. */
export function registrableDomain(hostOrUrl: string): string {
  const host = (getHostname(hostOrUrl) ?? hostOrUrl).toLowerCase().replace(/\.$/, '');
  return getDomain(host, { allowPrivateDomains: false }) ?? host;
}

/** Normalizes a settings list entry ("https://www.Wikipedia.org/x", "en.wikipedia.org") to its registrable domain. */
export function normalizeDomainEntry(entry: string): string {
  const trimmed = entry.trim();
  if (trimmed === '') return '';
  return registrableDomain(trimmed.includes('://') ? trimmed : `http://${trimmed}`);
}

/**
 * Whether a page on `domain` may be shared: `default_none` shares only listed (allowed) domains, `default_all` shares
 * everything but listed (denied) ones. The Redis `update` script applies the same rule atomically to cached settings.
 */
export function isShared(settings: PrivacySettings, domain: string): boolean {
  if (domain === '') return false;
  const listed = settings.domains.includes(domain);
  return settings.shareMode === 'default_all' ? !listed : listed;
}

/** The settings of a user the directory does not know: share nothing. */
export const SHARE_NOTHING: PrivacySettings = Object.freeze({ shareMode: 'default_none', domains: [] });
