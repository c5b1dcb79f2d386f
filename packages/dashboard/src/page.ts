import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The page's script and styles, bundled at build time (uPlot included) by
 * `tsup.page.config.ts` into `dist/page/`. From `src/` (tests, source imports) and from
 * `dist/` alike that folder is `../dist/page/`.
 */
const ASSETS = new URL('../dist/page/', import.meta.url);

/** The page as one response: what it is, or why it cannot be served. */
export type PageResponse =
  | { readonly ok: true; readonly html: string; readonly headers: Record<string, string> }
  | { readonly ok: false; readonly message: string };

let cached: PageResponse | undefined;

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/**
 * The page, with its script and styles inline, so that it works under any mount path with
 * no second request, and a Content-Security-Policy that allows exactly them (by hash), its
 * own origin's API and nothing else: no other script can run in it, and no other site may
 * frame it (its buttons act on the server).
 */
export function page(): PageResponse {
  if (cached !== undefined) return cached;
  let script: string;
  let style: string;
  try {
    script = readFileSync(fileURLToPath(new URL('page.js', ASSETS)), 'utf8');
    style = readFileSync(fileURLToPath(new URL('page.css', ASSETS)), 'utf8');
  } catch (error) {
    // Not cached: a build that lands later is picked up.
    return {
      ok: false,
      message: `the dashboard page is not built (${error instanceof Error ? error.message : String(error)}): run npm run build`,
    };
  }
  // Neither may close its own element early; the bundler never writes these sequences.
  if (/<\/script/i.test(script) || /<\/style/i.test(style)) {
    return { ok: false, message: 'the dashboard page bundle cannot be inlined' };
  }
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>geartrain</title>
<link rel="icon" href="data:,">
<style>${style}</style>
</head>
<body>
<noscript>The geartrain dashboard needs JavaScript.</noscript>
<script>${script}</script>
</body>
</html>
`;
  cached = {
    ok: true,
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'content-security-policy': [
        "default-src 'none'",
        `script-src ${sha256(script)}`,
        // Styles by hash alone would refuse the style attributes uPlot's legend sets; a
        // style cannot run code, so inline styles are allowed.
        "style-src 'unsafe-inline'",
        "connect-src 'self'",
        "img-src 'self' data:",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'none'",
      ].join('; '),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
  };
  return cached;
}
