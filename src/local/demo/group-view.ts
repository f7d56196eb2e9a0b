// The demo page's group view: pick one of your groups, see its members' live presence and how many are online.
import type {
  GroupPresence,
  Presence,
  PresenceClient,
  PresenceTimeoutMessage,
  PresenceUpdateMessage,
} from '../../client';
import { applyMessage, fetchGroupPresence } from '../../client';

interface DevGroup {
  groupId: string;
  name: string;
  members: string[];
}

/** What the group view needs from the page. */
export interface GroupViewDeps {
  readonly origin: string;
  /** Renders one member row (the page's friend row). */
  readonly row: (p: Presence) => HTMLElement;
  readonly log: (line: string) => void;
}

/** The group view; `attach` it to each new client (a user pick), `refresh` after your own update. */
export class GroupView {
  private client: PresenceClient | undefined;
  private token = '';
  private me = '';
  private group: { groupId: string; name: string; members: Map<string, Presence> } | undefined;
  private generation = 0;

  constructor(private readonly deps: GroupViewDeps) {
    this.select.addEventListener('change', () => void this.open(this.select.value));
  }

  private get select(): HTMLSelectElement {
    return document.querySelector('#group') as HTMLSelectElement;
  }

  /** A new user was picked: lists their groups and follows pushes on their client. */
  async attach(client: PresenceClient, token: string, me: string): Promise<void> {
    this.generation += 1;
    const mine = this.generation;
    this.client = client;
    this.token = token;
    this.me = me;
    this.group = undefined;
    this.render();
    client.on('update-presence', (m) => this.apply(m));
    client.on('presence-timeout', (m) => this.apply(m));
    client.on('group-forbidden', (m) => this.deps.log(`group: ${m.message ?? 'forbidden'}`));
    const { groups } = (await (await fetch('/dev/groups')).json()) as { groups: DevGroup[] };
    if (mine !== this.generation) return;
    const own = groups.filter((g) => g.members.includes(me));
    this.select.replaceChildren(
      new Option(own.length > 0 ? 'Pick a group' : 'No groups', ''),
      ...own.map((g) => new Option(`${g.name} (${g.members.length})`, g.groupId)),
    );
  }

  /** Re-reads the open group (after your own change, which the server does not echo to this connection). */
  async refresh(): Promise<void> {
    if (this.group) await this.open(this.group.groupId);
  }

  private async open(groupId: string): Promise<void> {
    const mine = this.generation;
    if (!groupId) {
      this.group = undefined;
      this.client?.followGroups([]);
      return this.render();
    }
    // Follow first, then read: a push that races the snapshot is reconciled by its version in the client.
    this.client?.followGroups([groupId]);
    let snapshot: GroupPresence;
    try {
      snapshot = await fetchGroupPresence(this.deps.origin, this.token, groupId);
    } catch (error) {
      this.deps.log(`group ${groupId}: ${String(error)}`);
      return;
    }
    if (mine !== this.generation) return;
    this.group = {
      groupId,
      name: snapshot.name,
      members: new Map(snapshot.members.map((p) => [p.userId, p])),
    };
    this.render();
  }

  private apply(m: PresenceUpdateMessage | PresenceTimeoutMessage): void {
    const members = this.group?.members;
    if (!members?.has(m.userId) || m.userId === this.me) return;
    members.set(m.userId, applyMessage(members.get(m.userId), m));
    this.render();
  }

  private render(): void {
    const list = document.querySelector('#group-members') as HTMLElement;
    const count = document.querySelector('#group-online') as HTMLElement;
    if (!this.group) {
      list.replaceChildren();
      count.textContent = '';
      return;
    }
    const members = [...this.group.members.values()];
    const online = members.filter((p) => p.status !== 'offline').length;
    count.textContent = `${online} of ${members.length} online`;
    count.dataset.online = String(online);
    list.replaceChildren(
      ...members
        .sort(
          (a, b) => Number(a.status === 'offline') - Number(b.status === 'offline') || a.userId.localeCompare(b.userId),
        )
        .map((p) => this.deps.row(p)),
    );
  }
}
