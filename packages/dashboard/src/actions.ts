import { GeartrainError, type JobServer } from '@geartrain/core';
import type { IncomingHttpHeaders } from 'node:http';
import { createHash, timingSafeEqual } from 'node:crypto';

/** What the page can do to the server. */
export type DashboardAction =
  | { readonly action: 'cancel'; readonly handle: string }
  | { readonly action: 'retry'; readonly handle: string }
  | { readonly action: 'discard'; readonly handle: string }
  | { readonly action: 'pause'; readonly functionName: string }
  | { readonly action: 'resume'; readonly functionName: string };

/** An answer to an action request: the HTTP status and a JSON body. */
export interface ActionReply {
  readonly status: number;
  readonly body: { readonly ok: true; readonly handle?: string } | ActionError;
}

export interface ActionError {
  readonly ok: false;
  /** Stable: ACTIONS_OFF, UNAUTHORIZED, CROSS_SITE, BAD_REQUEST, or the server's error code. */
  readonly code: string;
  readonly message: string;
}

/** The largest action body read (an action is a few names). */
export const MAX_ACTION_BYTES = 4096;

const refuse = (status: number, code: string, message: string): ActionReply => ({
  status,
  body: { ok: false, code, message },
});

/**
 * Whether a request may act, before its body is read. Actions are off without a token. With
 * one, the request must carry it as `Authorization: Bearer <token>` and send JSON: a page on
 * another site can send neither a custom header nor a JSON content type without a CORS
 * preflight, which this handler never grants, so a cross-site form or fetch cannot act (the
 * OWASP "custom request header" defence). Browsers' `Sec-Fetch-Site` and `Origin` are
 * checked too where they are sent, so a token leaked into another site's page is refused.
 */
export function checkActionRequest(
  headers: IncomingHttpHeaders,
  token: string | undefined,
): ActionReply | null {
  if (token === undefined || token === '') {
    return refuse(403, 'ACTIONS_OFF', 'actions are off: the dashboard has no token configured');
  }
  const site = headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return refuse(403, 'CROSS_SITE', 'actions are refused from another site');
  }
  const origin = headers.origin;
  if (origin !== undefined && origin !== 'null') {
    let host: string;
    try {
      host = new URL(origin).host;
    } catch {
      host = '';
    }
    if (host !== headers.host)
      return refuse(403, 'CROSS_SITE', 'actions are refused from another origin');
  }
  const given = /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1];
  if (given === undefined || !sameSecret(given, token)) {
    return refuse(401, 'UNAUTHORIZED', 'a valid token is needed (Authorization: Bearer …)');
  }
  if (!/^application\/json\b/i.test(headers['content-type'] ?? '')) {
    return refuse(415, 'BAD_REQUEST', 'an action is sent as application/json');
  }
  return null;
}

/** Compares in constant time (hashes first, so the lengths do not leak either). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Reads an action from a JSON body, or says what is wrong with it. */
export function parseAction(text: string): DashboardAction | ActionReply {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return refuse(400, 'BAD_REQUEST', 'the body is not JSON');
  }
  if (typeof value !== 'object' || value === null) {
    return refuse(400, 'BAD_REQUEST', 'an action is a JSON object');
  }
  const { action, handle, functionName } = value as Record<string, unknown>;
  switch (action) {
    case 'cancel':
    case 'retry':
    case 'discard':
      if (typeof handle !== 'string' || handle === '') {
        return refuse(400, 'BAD_REQUEST', `${action} needs a handle`);
      }
      return { action, handle };
    case 'pause':
    case 'resume':
      if (typeof functionName !== 'string' || functionName === '') {
        return refuse(400, 'BAD_REQUEST', `${action} needs a functionName`);
      }
      return { action, functionName };
    default:
      return refuse(400, 'BAD_REQUEST', 'action must be cancel, retry, discard, pause or resume');
  }
}

/** Does an action; a refusal by the server keeps its error's code. */
export async function performAction(
  server: JobServer,
  action: DashboardAction,
): Promise<ActionReply> {
  const done = (handle?: string): ActionReply => ({
    status: 200,
    body: handle === undefined ? { ok: true } : { ok: true, handle },
  });
  try {
    switch (action.action) {
      case 'cancel':
        return (await server.cancel(action.handle))
          ? done(action.handle)
          : refuse(404, 'JOB_NOT_FOUND', `no live job ${action.handle}`);
      case 'retry':
        return done(await server.retry(action.handle));
      case 'discard':
        return (await server.discard(action.handle))
          ? done(action.handle)
          : refuse(404, 'JOB_NOT_FOUND', `no kept outcome ${action.handle}`);
      case 'pause':
        await server.pause(action.functionName);
        return done();
      case 'resume':
        await server.resume(action.functionName);
        return done();
    }
  } catch (error) {
    if (error instanceof GeartrainError) {
      return refuse(error.code === 'JOB_NOT_FOUND' ? 404 : 409, error.code, error.message);
    }
    throw error;
  }
}
