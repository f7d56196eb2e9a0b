// Display helpers for presence UIs (the extension popup, the demo page).

/** "just now", "3 min ago", "2 h ago", "4 d ago"; "never" without a time. */
export function ago(epochMs: number | null, now = Date.now()): string {
  if (!epochMs) return 'never';
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}
