// A person watching the dashboard, in a process of its own as a browser would be: while
// told to watch it follows the page's live feed (/api/events) and scrapes /metrics once a
// second, as Prometheus would. Reads `watch`, `rest` and `exit` lines on stdin; on exit
// prints {"events":N,"scrapes":M} so the benchmark can check it really watched.
import { createInterface } from 'node:readline';

const base = process.argv[2];
let events = 0;
let scrapes = 0;
let feed = null;
let scraper = null;

async function follow(controller) {
  const response = await fetch(`${base}/api/events`, { signal: controller.signal });
  const decoder = new TextDecoder();
  for await (const chunk of response.body) {
    const text = decoder.decode(chunk, { stream: true });
    events += text.split('event: update').length - 1;
  }
}

function watch() {
  if (feed !== null) return;
  feed = new AbortController();
  follow(feed).catch(() => {});
  scraper = setInterval(() => {
    fetch(`${base}/metrics`)
      .then((r) => r.text())
      .then(
        () => scrapes++,
        () => {},
      );
  }, 1000);
}

function rest() {
  feed?.abort();
  feed = null;
  clearInterval(scraper);
  scraper = null;
}

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'watch') watch();
  else if (line === 'rest') rest();
  else if (line === 'exit') break;
  process.stdout.write(`${line}\n`); // acknowledged
}
rest();
process.stdout.write(`${JSON.stringify({ events, scrapes })}\n`);
process.exit(0);
