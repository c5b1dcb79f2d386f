import { GeartrainError, InvalidArgumentError, type JobServer } from '@geartrain/core';
import { checkJobServer, checkOptions } from '@geartrain/core/transport';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobServerMetrics, type MetricsOptions } from './metrics.js';
import { takeSnapshot, type SnapshotLimits } from './snapshot.js';
import { LiveFeed } from './live.js';
import { page } from './page.js';
import { searchJob } from './search.js';
import {
  MAX_ACTION_BYTES,
  checkActionRequest,
  parseAction,
  performAction,
  type ActionReply,
} from './actions.js';

export interface DashboardOptions extends MetricsOptions {
  /**
   * The path the handler is mounted under in a plain `node:http` server (`/jobs`: metrics at
   * `/jobs/metrics`). Frameworks that strip their mount path (Express's `app.use('/jobs',
   * …)`, Fastify's prefix) need none; the handler accepts both forms.
   */
  readonly prefix?: string;
  /**
   * Turns the page's actions on (cancel, retry, discard, pause, resume at `POST
   * /api/actions`): each request must carry it as `Authorization: Bearer <token>`. Without
   * one, actions are refused (`ACTIONS_OFF`).
   */
  readonly token?: string;
  /** How often `/api/events` sends an update, ms. Default 1000. */
  readonly interval?: number;
  /** How many rows of each list `/api/snapshot` carries (defaults in `SnapshotLimits`). */
  readonly snapshot?: SnapshotLimits;
}

/** What each path serves. */
const ROUTES: ReadonlyMap<string, 'page' | 'metrics' | 'snapshot' | 'actions' | 'events' | 'job'> =
  new Map([
    ['/', 'page'],
    ['/metrics', 'metrics'],
    ['/api/job', 'job'],
    ['/api/snapshot', 'snapshot'],
    ['/api/actions', 'actions'],
    ['/api/events', 'events'],
  ]);

function json(res: ServerResponse, status: number, body: unknown, head = false): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  });
  res.end(head ? undefined : text);
}

const reply = (res: ServerResponse, { status, body }: ActionReply) => json(res, status, body);

/** What a failed read of the server answers (a shared queue out of reach, say). */
function failure(error: unknown): ActionReply {
  return {
    status: 500,
    body: {
      ok: false,
      code: error instanceof GeartrainError ? error.code : 'INTERNAL',
      message: error instanceof Error ? error.message : String(error),
    },
  };
}

/** Answers with what `read` resolves to (the job server's views are Promises), or a 500. */
function jsonLater(res: ServerResponse, read: Promise<unknown>, head: boolean): void {
  read.then(
    (body) => json(res, 200, body, head),
    (error: unknown) => {
      const { status, body } = failure(error);
      json(res, status, body, head);
    },
  );
}

/** `POST /api/actions`: checked before the body is read, the body capped, then done. */
function act(
  server: JobServer,
  token: string | undefined,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const refused = checkActionRequest(req.headers, token);
  if (refused !== null) {
    req.resume();
    reply(res, refused);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    if (res.headersSent) return; // refused already: the rest is drained, not kept
    size += chunk.length;
    if (size > MAX_ACTION_BYTES) {
      // Answered at once; the connection closes after it, so the sender stops.
      res.setHeader('connection', 'close');
      reply(res, {
        status: 413,
        body: {
          ok: false,
          code: 'BAD_REQUEST',
          message: `an action is at most ${MAX_ACTION_BYTES} bytes`,
        },
      });
      chunks.length = 0;
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (res.headersSent) return;
    const action = parseAction(Buffer.concat(chunks).toString('utf8'));
    if ('status' in action) {
      reply(res, action);
      return;
    }
    performAction(server, action).then(
      (answer) => reply(res, answer),
      (error: unknown) => reply(res, failure(error)),
    );
  });
}

/** A Node request handler, with the metrics it serves and a way to stop following the server. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  readonly metrics: JobServerMetrics;
  close(): void;
}

/**
 * The dashboard as a Node `(req, res)` handler, mountable in `node:http`, Express or
 * Fastify: `GET /` the live page, `GET /metrics` the Prometheus text format, `GET
 * /api/snapshot` the page's view of the server as JSON (see `takeSnapshot`), `GET
 * /api/events` that view once an interval, `GET /api/job?q=` a search by handle or unique
 * id, `POST /api/actions` an action. A request for anything else is passed to `next` when
 * there is one (Express), else answered 404.
 */
export function createDashboardHandler(
  server: JobServer,
  options: DashboardOptions = {},
): DashboardHandler {
  checkJobServer(server);
  checkOptions(options);
  const interval = options.interval ?? 1000;
  if (!(interval >= 50)) throw new InvalidArgumentError('interval must be at least 50 ms');
  const metrics = new JobServerMetrics(server, options);
  const live = new LiveFeed(server, interval, options.snapshot);
  const prefix = (options.prefix ?? '').replace(/\/+$/, '');
  const handler = (req: IncomingMessage, res: ServerResponse, next?: (e?: unknown) => void) => {
    let path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (prefix !== '' && (path === prefix || path.startsWith(`${prefix}/`))) {
      path = path.slice(prefix.length) || '/';
    }
    const route = ROUTES.get(path);
    if (route === undefined) {
      if (next !== undefined) return next();
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (route === 'actions') {
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST' }).end();
        return;
      }
      act(server, options.token, req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = req.method === 'HEAD' ? undefined : null;
    if (route === 'events' && body === null) {
      live.add(res);
      return;
    }
    const head = body === undefined;
    if (route === 'snapshot' || route === 'events') {
      jsonLater(res, takeSnapshot(server, options.snapshot), head);
      return;
    }
    if (route === 'job') {
      const query = new URL(req.url ?? '/', 'http://localhost').searchParams.get('q') ?? '';
      if (query === '') {
        json(
          res,
          400,
          { ok: false, code: 'BAD_REQUEST', message: 'q names a handle or unique id' },
          head,
        );
        return;
      }
      jsonLater(res, searchJob(server, query), head);
      return;
    }
    if (route === 'page') {
      const served = page();
      if (served.ok) res.writeHead(200, served.headers).end(head ? undefined : served.html);
      else
        res
          .writeHead(503, { 'content-type': 'text/plain; charset=utf-8' })
          .end(`${served.message}\n`);
      return;
    }
    metrics.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body ?? text);
      },
      (error: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`);
      },
    );
  };
  return Object.assign(handler, {
    metrics,
    close: () => {
      live.close();
      metrics.close();
    },
  });
}

export interface ServeDashboardOptions extends DashboardOptions {
  /** Default 127.0.0.1: the dashboard is for the machine's operators unless told otherwise. */
  readonly host?: string;
  /** Default 0: a free port (see `address`). */
  readonly port?: number;
}

export interface ServedDashboard {
  readonly address: AddressInfo;
  readonly handler: DashboardHandler;
  close(): Promise<void>;
}

/** Runs the dashboard alone on its own HTTP port. */
export async function serveDashboard(
  server: JobServer,
  options: ServeDashboardOptions = {},
): Promise<ServedDashboard> {
  const handler = createDashboardHandler(server, options);
  const http = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  return {
    address: http.address() as AddressInfo,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
