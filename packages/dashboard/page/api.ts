/** What the page asks of the dashboard handler, all relative to the page's own path. */
import type { DashboardAction, DashboardSnapshot, LiveUpdate, SearchResult } from '../src/index.js';

/** The handler's root: the page is served at it, with or without a trailing slash. */
const base = location.pathname.endsWith('/') ? location.pathname : `${location.pathname}/`;

const TOKEN_KEY = 'geartrain.dashboard.token';

/** The action token lives in this tab's session only: never in a cookie, never on disk. */
export const token = {
  get: (): string => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value: string): void =>
    value === '' ? sessionStorage.removeItem(TOKEN_KEY) : sessionStorage.setItem(TOKEN_KEY, value),
};

/** Follows `/api/events`; EventSource reconnects by itself after the `retry` it is sent. */
export function follow(
  onUpdate: (update: LiveUpdate) => void,
  onState: (live: boolean) => void,
): void {
  const events = new EventSource(`${base}api/events`);
  events.addEventListener('update', (e) => {
    onState(true);
    onUpdate(JSON.parse((e as MessageEvent<string>).data) as LiveUpdate);
  });
  events.addEventListener('error', () => onState(false));
}

export async function snapshot(): Promise<DashboardSnapshot> {
  const response = await fetch(`${base}api/snapshot`, { cache: 'no-store' });
  return (await response.json()) as DashboardSnapshot;
}

export type ActionResult = { ok: true } | { ok: false; code: string; message: string };

/** Sends an action with the token; a refusal comes back with the server's code. */
export async function act(action: DashboardAction): Promise<ActionResult> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const t = token.get();
  if (t !== '') headers.authorization = `Bearer ${t}`;
  try {
    const response = await fetch(`${base}api/actions`, {
      method: 'POST',
      headers,
      body: JSON.stringify(action),
    });
    return (await response.json()) as ActionResult;
  } catch (error) {
    return { ok: false, code: 'NETWORK', message: String(error) };
  }
}

export async function search(query: string): Promise<SearchResult> {
  const response = await fetch(`${base}api/job?q=${encodeURIComponent(query)}`, {
    cache: 'no-store',
  });
  return (await response.json()) as SearchResult;
}
