import { DEFAULT_HOST, DEFAULT_PORT, VERSION } from '@geartrain/tcp';

/** What `geartrain --help` prints; `storeDir` is the default store's folder, as shown. */
export function serveHelp(storeDir: string): string {
  return `geartrain ${VERSION} — a Gearman job server in Node.js

Usage: geartrain serve [options]
       geartrain import-gearmand QUEUE_FILE [--store PATH]   (see import-gearmand --help)

  -L, --listen ADDRESS        address to bind (default ${DEFAULT_HOST}); ::1 or [::1] for
                              IPv6, HOST:PORT or [V6]:PORT also give the port
  -p, --port PORT             port (default ${DEFAULT_PORT}, or $GEARMAND_PORT)
  -j, --job-retries N         attempts before a job whose workers keep dying fails
                              (0 = unlimited, as gearmand)
      --exceptions            every connection receives WORK_EXCEPTION without asking
  -w, --worker-wakeup N       sleeping workers woken (NOOP) per queued job: 1 (default),
                              or 0 for every sleeper of the function, as gearmand's default
      --wake-timeout MS       a woken worker that has not asked for work after MS ms
                              while jobs wait makes every sleeper wake (default 100)
      --job-handle-prefix P   handles are P:<n> (default H:<hostname>)
      --job-policy 'FN attempts=N[,backoff=fixed|exponential][,delay=MS][,max=MS][,jitter=0..1]
                   [,keep-completed=N|all][,keep-completed-age=MS][,keep-failed=N|all]
                   [,keep-failed-age=MS]'
                              retries for the jobs of FN, whoever submits them, and what is
                              kept of them once ended (repeatable; also the admin command
                              "policy FN ...")
      --http HOST:PORT        serve the live dashboard page at http://HOST:PORT/ and
                              Prometheus metrics at /metrics (@geartrain/dashboard); its
                              actions need GEARTRAIN_DASHBOARD_TOKEN in the environment
      --config FILE           a JSON file of functions' settings (retries, retention,
                              limits, pause) and schedules by name: see the
                              section "Configuration file" of README.md at the root of
                              geartrain's repository
      --store PATH|memory|postgres://USER@HOST:PORT/DB
                              where background jobs are kept: an SQLite file (default
                              ${storeDir}/jobs-PORT.sqlite, one per port), "memory"
                              (lost at exit), or a PostgreSQL database several servers
                              share as one queue (PGHOST, PGPORT, PGUSER, PGPASSWORD,
                              PGDATABASE... fill in what the URL leaves out)
      --durability MODE       process-crash (default): a job acknowledged survives the
                              process being killed; power-loss: it also survives a power
                              cut or an OS crash (one fsync per commit)
  -q, --queue-type libsqlite3 with --libsqlite3-db FILE [--libsqlite3-table NAME]: gearmand's
                              spelling of --store FILE
      --max-connections N     refuse connections beyond N
      --idle-timeout MS       close connections silent for MS milliseconds
      --keepalive             TCP keepalive on accepted connections
      --allow-remote-shutdown accept the shutdown admin command from other hosts
      --allow-remote-admin    accept geartrain's admin commands that change jobs and
                              settings (discard, retry, schedule, policy, limit, pause,
                              resume) from other hosts; gearmand's own (cancel job, ...)
                              are anyone's, as in gearmand
      --shutdown-timeout MS   how long running jobs may finish on SIGTERM/SIGINT and on
                              "shutdown graceful" (default 30000)
  -v, --verbose LEVEL         FATAL ALERT CRITICAL ERROR WARNING NOTICE INFO DEBUG
                              (default ERROR); also what the verbose admin command says
  -l, --log-file FILE         where the JSON log goes: a file, "stderr" (default) or "none"
  -P, --pid-file FILE         write the process id to FILE (removed at exit)
  -t, --threads N             accepted for gearmand compatibility and ignored: geartrain
                              serves every connection on one event loop; run CPU-heavy
                              handlers in worker threads with @geartrain/threads
  -h, --help                  this text
      --version               print the version

SIGTERM and SIGINT stop the server gracefully: no new jobs, running ones finish (up to
--shutdown-timeout), then connections close; a second SIGTERM or SIGINT stops it at once.
Background jobs stay in the store for the next start; foreground jobs are never stored
(their clients went with the connection).
`;
}

/** What `geartrain import-gearmand --help` prints. */
export const IMPORT_HELP = `Usage: geartrain import-gearmand QUEUE_FILE [--table NAME] [--store PATH | --port PORT]

Moves the jobs of a gearmand libsqlite3 queue file (gearmand -q libsqlite3
--libsqlite3-db QUEUE_FILE) into a geartrain store (default: the one geartrain serve uses
on port ${DEFAULT_PORT}). The queue file is only read. Jobs keep their function, unique id,
priority, payload and time; each gets a geartrain handle. Running it twice imports nothing
twice.

      --table NAME            gearmand's --libsqlite3-table (default: the one queue table)
      --store PATH            the geartrain store to fill
  -p, --port PORT             the default store of geartrain serve --port PORT
      --job-handle-prefix P   handles of the imported jobs are P:<n> (default H:<hostname>)
`;
