// The options page: server URL and token; one click gets a dev token from the local stack.
import { chromeApi as chrome } from './chrome-api';
import { loadSettings } from './settings';

const $ = (id: string) => document.getElementById(id) as HTMLInputElement;

function say(text: string): void {
  $('status').textContent = text;
}

async function save(): Promise<void> {
  const serverUrl = $('server').value.trim().replace(/\/+$/, '');
  await chrome.storage.local.set({ serverUrl, token: $('token').value.trim() });
  say('Saved.');
}

async function devToken(): Promise<void> {
  const serverUrl = $('server').value.trim().replace(/\/+$/, '');
  const userId = $('user').value.trim();
  if (!userId) return say('Enter a user id first.');
  try {
    const response = await fetch(`${serverUrl}/dev/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    if (!response.ok) return say(`The server answered ${response.status} (dev tokens exist only in the local stack).`);
    $('token').value = ((await response.json()) as { token: string }).token;
    await save();
    say(`Signed in as ${userId} with a dev token.`);
  } catch (error) {
    say(`Could not reach ${serverUrl}: ${String(error)}`);
  }
}

void loadSettings().then(({ serverUrl, token }) => {
  $('server').value = serverUrl;
  $('token').value = token;
});
document.getElementById('save')?.addEventListener('click', () => void save());
document.getElementById('dev-token')?.addEventListener('click', () => void devToken());
