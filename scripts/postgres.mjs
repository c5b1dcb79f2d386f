// npm run postgres: a throwaway PostgreSQL for trying the shared queue (README, "Several
// replicas, one queue"), on 127.0.0.1:5432 (or PGPORT), anyone let in as `postgres` without a
// password, its data in a temporary folder removed when it stops (Ctrl-C). Debian's
// postgresql package (scripts/install-test-deps.sh); as root, it runs as the postgres user,
// since initdb refuses root. The same harness the cluster bench uses.
import { startPostgres } from '../bench/postgres.mjs';

const port = Number(process.env.PGPORT ?? 5432);
let server;
try {
  server = await startPostgres({}, port);
} catch (error) {
  process.stderr.write(`npm run postgres: ${error instanceof Error ? error.message : error}\n`);
  process.exit(1);
}
process.stdout.write(`PostgreSQL on ${server.connectionString} until Ctrl-C\n`);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    void server.stop().then(() => process.exit(0));
  });
}
