// The application's recurring work, installed on any job server: a report every night at
// 03:00 Berlin time, a cleanup every five minutes, and the partner API the report calls,
// which allows at most 2 calls a second (the limit holds across every worker, in process,
// over TCP and in threads).
export async function install(server, { log }) {
  await server.schedule('nightly-report', {
    cron: '0 0 3 * * *',
    timezone: 'Europe/Berlin',
    functionName: 'report',
  });
  await server.schedule('cleanup', { every: 5 * 60_000, functionName: 'cleanup' });
  await server.setFunctionLimits('notify-partner', { rate: { max: 2, duration: 1000 } });

  const client = server.client();
  const worker = server.worker();
  let removed = 0;
  worker.register('cleanup', () => {
    removed++;
  });
  worker.register('report', async (job) => {
    log(`report at ${new Date(server.scheduler.now()).toISOString()} (job ${job.unique})`);
    // The report tells five partners; the limit spaces the calls out.
    for (let partner = 1; partner <= 5; partner++) {
      await client.submit('notify-partner', `partner-${partner}`, { background: true });
    }
  });
  worker.register(
    'notify-partner',
    (job) => log(`  called ${job.text()} at ${new Date(server.scheduler.now()).toISOString()}`),
    { concurrency: 5 },
  );
  return { cleanups: () => removed };
}
