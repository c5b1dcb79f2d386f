import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const run = promisify(execFile);
const script = fileURLToPath(new URL('./fixtures/queue-double-script.mjs', import.meta.url));

// A script that awaits a shared queue's answer must not end before it arrives: the job
// server's timers never hold the process, so the double's turn must (as a database's
// socket does). Before that, it ended at the first read (exit code 13,
// an unsettled top-level await).
it("the testing README's queue double example runs as a script, to its end", async () => {
  const { stdout } = await run(process.execPath, [script], { timeout: 30_000 });
  expect(stdout).toMatch(
    /^submitted on a: (H:shared:\d+)\nstatus read on a: boolean\ncompleted on b: \1\nstatus on a and b: false false\n$/,
  );
});
