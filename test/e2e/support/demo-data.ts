// Fresh users and friendships per test through the local stack's /dev routes, so tests never share presence state.
import { postJson } from './stack-process';

let counter = 0;

/** A user to create: share mode and domain lists default to sharing everything. */
export interface UserSpec {
  readonly shareMode?: 'default_all' | 'default_none';
  readonly domainAllow?: string[];
  readonly domainDeny?: string[];
}

/** Creates users named `{tag}-{name}-{n}` and the accepted (or pending) friendships between them; returns the ids. */
export async function createUsers<N extends string>(
  stackUrl: string,
  tag: string,
  users: Record<N, UserSpec>,
  friendships: [NoInfer<N>, NoInfer<N>, boolean?][] = [],
): Promise<Record<N, string>> {
  counter += 1;
  const ids = {} as Record<N, string>;
  for (const [name, spec] of Object.entries(users) as [N, UserSpec][]) {
    const userId = `${tag}-${name}-${counter}`;
    ids[name] = userId;
    const status = await postJson(stackUrl, '/dev/users', {
      userId,
      firstName: name[0]?.toUpperCase() + name.slice(1),
      lastName: 'Test',
      shareMode: spec.shareMode ?? 'default_all',
      domainAllow: spec.domainAllow ?? [],
      domainDeny: spec.domainDeny ?? [],
    });
    if (status !== 201) throw new Error(`POST /dev/users answered ${status}`);
  }
  for (const [a, b, accepted = true] of friendships) {
    const status = await postJson(stackUrl, '/dev/friendships', { userId1: ids[a], userId2: ids[b], accepted });
    if (status !== 201) throw new Error(`POST /dev/friendships answered ${status}`);
  }
  return ids;
}

/** The connection ids the stack logged for `userId`'s accepted connections, oldest first. */
export function connectionIdsOf(stackOutput: string, userId: string): string[] {
  const escaped = userId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`\\$connect\\s+101\\s+${escaped}\\s+conn=(\\S+)`, 'g');
  return [...stackOutput.matchAll(pattern)].map((m) => m[1] as string);
}

/** Waits until the stack has logged `count` accepted connections of `userId`; returns their ids. */
export async function waitForConnectionIds(
  stackOutput: () => string,
  userId: string,
  count = 1,
  timeoutMs = 3000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = connectionIdsOf(stackOutput(), userId);
    if (ids.length >= count) return ids;
    if (Date.now() > deadline) throw new Error(`no $connect of ${userId} in the stack output`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
