// REST calls of the client: the presence snapshot, one user's presence and a group's, with the token as a Bearer header.
import type { GroupPresence, PresenceOverview, UserPresence } from './messages';

/** A REST error: the status and the server's `{"message"}`. */
export class PresenceApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'PresenceApiError';
  }
}

type FetchLike = (
  input: string,
  init?: { headers?: Record<string, string> },
) => Promise<{ status: number; ok: boolean; json(): Promise<unknown> }>;

async function getJson<T>(url: string, token: string, fetchImpl: FetchLike): Promise<T> {
  const response = await fetchImpl(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as { message?: unknown };
  if (!response.ok)
    throw new PresenceApiError(
      response.status,
      typeof body.message === 'string' ? body.message : `HTTP ${response.status}`,
    );
  return body as T;
}

/** `GET {baseUrl}/presence`: the caller's presence and their friends'. */
export function fetchPresenceOverview(
  baseUrl: string,
  token: string,
  fetchImpl: FetchLike = fetch as unknown as FetchLike,
): Promise<PresenceOverview> {
  return getJson<PresenceOverview>(`${baseUrl.replace(/\/+$/, '')}/presence`, token, fetchImpl);
}

/** `GET {baseUrl}/presence/{userId}`: one user's presence (self or an accepted friend), with PageNow's `url` / `title`. */
export function fetchUserPresence(
  baseUrl: string,
  token: string,
  userId: string,
  fetchImpl: FetchLike = fetch as unknown as FetchLike,
): Promise<UserPresence> {
  return getJson<UserPresence>(
    `${baseUrl.replace(/\/+$/, '')}/presence/${encodeURIComponent(userId)}`,
    token,
    fetchImpl,
  );
}

/**
 * `GET {baseUrl}/groups/{groupId}/presence`: a group's members and how many are online (members only; anyone else gets
 * a {@link PresenceApiError} with status 403).
 */
export function fetchGroupPresence(
  baseUrl: string,
  token: string,
  groupId: string,
  fetchImpl: FetchLike = fetch as unknown as FetchLike,
): Promise<GroupPresence> {
  return getJson<GroupPresence>(
    `${baseUrl.replace(/\/+$/, '')}/groups/${encodeURIComponent(groupId)}/presence`,
    token,
    fetchImpl,
  );
}
