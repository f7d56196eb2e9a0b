// The open WebSocket connections of the local gateway: pending ($connect running) and open ones, by connection id.
import type { WebSocket } from 'ws';
import type { ConnectionEventBase } from './api-events';

/** One connection as the gateway tracks it. */
export interface LocalConnection extends ConnectionEventBase {
  readonly userId: string;
  socket: WebSocket | undefined;
  lastActiveAt: number;
}

/** Connections by id. A pending connection (no socket yet: `$connect` is running) is not reachable through @connections. */
export class ConnectionRegistry {
  private readonly connections = new Map<string, LocalConnection>();

  /** Adds a connection whose `$connect` is running. */
  addPending(base: ConnectionEventBase, userId: string): LocalConnection {
    const connection: LocalConnection = {
      ...base,
      userId,
      socket: undefined,
      lastActiveAt: base.connectedAt,
    };
    this.connections.set(base.connectionId, connection);
    return connection;
  }

  /** Attaches the upgraded socket: from now on @connections reaches it. */
  open(connectionId: string, socket: WebSocket): LocalConnection | undefined {
    const connection = this.connections.get(connectionId);
    if (!connection) return undefined;
    connection.socket = socket;
    return connection;
  }

  get(connectionId: string): LocalConnection | undefined {
    return this.connections.get(connectionId);
  }

  /** Forgets a connection; later posts to it get 410. */
  remove(connectionId: string): LocalConnection | undefined {
    const connection = this.connections.get(connectionId);
    this.connections.delete(connectionId);
    return connection;
  }

  /** Every connection (open and pending). */
  all(): LocalConnection[] {
    return [...this.connections.values()];
  }

  get size(): number {
    return this.connections.size;
  }
}
