// A minimal typed event emitter that runs in browsers, MV3 service workers and Node alike.

/** Listener of event `K` of the event map `E`. */
export type Listener<E, K extends keyof E> = (payload: E[K]) => void;

/** Emits events of the map `E`; a throwing listener does not stop the others. */
export class TypedEmitter<E> {
  private readonly listeners = new Map<keyof E, Set<(payload: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E, K>): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => this.off(event, listener);
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: Listener<E, K>): void {
    this.listeners.get(event)?.delete(listener as (payload: never) => void);
  }

  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        (listener as Listener<E, K>)(payload);
      } catch (error) {
        setTimeout(() => {
          throw error;
        }, 0);
      }
    }
  }
}
