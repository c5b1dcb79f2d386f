// Runs the benchmarks named on the command line (all of them without a name).
// Usage: npm run bench [-- protocol core ...]
import { ensureBenchDependencies } from './install.mjs';

const suites = {
  protocol: () => import('./protocol.mjs'),
  core: () => import('./core.mjs'),
  tcp: () => import('./tcp.mjs'),
  client: () => import('./client.mjs'),
  threads: () => import('./threads.mjs'),
  wakeups: () => import('./wakeups.mjs'),
  startup: () => import('./startup.mjs'),
  store: () => import('./store.mjs'),
  schedules: () => import('./schedules.mjs'),
  burst: () => import('./burst.mjs'),
  cluster: () => import('./cluster.mjs'),
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => !(name in suites));
if (unknown.length > 0) {
  process.stderr.write(
    `unknown benchmark: ${unknown.join(', ')}; known: ${Object.keys(suites).join(', ')}\n`,
  );
  process.exit(2);
}
ensureBenchDependencies();
for (const name of names.length > 0 ? names : Object.keys(suites)) {
  const suite = await suites[name]();
  await suite.run();
}
