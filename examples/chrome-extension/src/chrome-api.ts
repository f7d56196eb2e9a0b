// The slice of the chrome.* extension API this example uses, typed here so the example needs no @types/chrome.

/** A browser tab. */
export interface ChromeTab {
  readonly id?: number;
  readonly url?: string;
  readonly title?: string;
  readonly active: boolean;
  readonly windowId: number;
}

interface ChromeEvent<F extends (...args: never[]) => unknown> {
  addListener(listener: F): void;
}

/** A long-lived message channel between extension pages (`chrome.runtime.connect` / `onConnect`). */
export interface ChromePort {
  readonly name: string;
  /** Fires on the other end when this end closes: the page was closed, or the worker stopped. */
  readonly onDisconnect: ChromeEvent<(port: ChromePort) => void>;
  disconnect(): void;
}

interface StorageArea {
  get(keys?: string | string[] | null): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

/** The chrome.* API surface used by the background worker, popup and options page. */
export interface ChromeApi {
  readonly runtime: {
    readonly id: string;
    readonly onStartup: ChromeEvent<() => void>;
    readonly onInstalled: ChromeEvent<() => void>;
    /** A port opened by another page of the extension (the popup). */
    readonly onConnect: ChromeEvent<(port: ChromePort) => void>;
    /** Opens a port to the service worker (starting it if it is stopped). */
    connect(info: { name: string }): ChromePort;
    openOptionsPage(): Promise<void>;
  };
  readonly tabs: {
    get(tabId: number): Promise<ChromeTab>;
    query(query: { active?: boolean; lastFocusedWindow?: boolean; currentWindow?: boolean }): Promise<ChromeTab[]>;
    readonly onActivated: ChromeEvent<(info: { tabId: number; windowId: number }) => void>;
    readonly onUpdated: ChromeEvent<
      (tabId: number, change: { url?: string; title?: string; status?: string }, tab: ChromeTab) => void
    >;
  };
  readonly windows: {
    readonly WINDOW_ID_NONE: number;
    readonly onFocusChanged: ChromeEvent<(windowId: number) => void>;
  };
  readonly idle: {
    setDetectionInterval(seconds: number): void;
    readonly onStateChanged: ChromeEvent<(state: 'active' | 'idle' | 'locked') => void>;
  };
  readonly alarms: {
    create(name: string, info: { periodInMinutes: number }): Promise<void> | void;
    readonly onAlarm: ChromeEvent<(alarm: { name: string }) => void>;
  };
  readonly storage: {
    readonly local: StorageArea;
    readonly session: StorageArea;
    readonly onChanged: ChromeEvent<
      (changes: Record<string, { newValue?: unknown; oldValue?: unknown }>, area: string) => void
    >;
  };
}

/** `chrome`, typed. */
export const chromeApi = (globalThis as unknown as { chrome: ChromeApi }).chrome;
