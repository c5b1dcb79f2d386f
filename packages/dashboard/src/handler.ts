import type { JobServer } from '@geartrain/core';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobServerMetrics, type MetricsOptions } from './metrics.js';
import { takeSnapshot, type SnapshotLimits } from './snapshot.js';

export interface DashboardOptions extends MetricsOptions {
  /**
   * The path the handler is mounted under in a plain `node:http` server (`/jobs`: metrics at
   * `/jobs/metrics`). Frameworks that strip their mount path (Express's `app.use('/jobs',
   * …)`, Fastify's prefix) need none; the handler accepts both forms.
   */
  readonly prefix?: string;
  /** How many rows of each list `/api/snapshot` carries (defaults in `SnapshotLimits`). */
  readonly snapshot?: SnapshotLimits;
}

/** What each path serves. */
const ROUTES: ReadonlyMap<string, 'metrics' | 'snapshot'> = new Map([
  ['/metrics', 'metrics'],
  ['/api/snapshot', 'snapshot'],
]);

/** A Node request handler, with the metrics it serves and a way to stop following the server. */
export interface DashboardHandler {
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): void;
  readonly metrics: JobServerMetrics;
  close(): void;
}

/**
 * The dashboard as a Node `(req, res)` handler, mountable in `node:http`, Express or
 * Fastify: `GET /metrics` answers the Prometheus text format, `GET /api/snapshot` the
 * page's view of the server as JSON (see `takeSnapshot`). A request for anything else
 * is passed to `next` when there is one (Express), else answered 404.
 */
export function createDashboardHandler(
  server: JobServer,
  options: DashboardOptions = {},
): DashboardHandler {
  const metrics = new JobServerMetrics(server, options);
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
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const body = req.method === 'HEAD' ? undefined : null;
    if (route === 'snapshot') {
      const text = JSON.stringify(takeSnapshot(server, options.snapshot));
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      });
      res.end(body ?? text);
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
  return Object.assign(handler, { metrics, close: () => metrics.close() });
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
