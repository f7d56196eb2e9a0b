// Stops what global-setup started.
export default async function globalTeardown(): Promise<void> {
  const started = globalThis.__presenceServices ?? [];
  await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
}
