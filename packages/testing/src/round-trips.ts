// The round trips of the queue doubles in this process (decision 33): each answer comes a
// real turn later (a macrotask, as a database's reply arrives on a socket, and holding the
// process as that socket does: the job server's own timers do not, so a script awaiting an
// answer would otherwise just end), never on the virtual clock: a round trip takes no
// virtual time, so a test on a virtual clock neither moves time to get an answer (an awaited
// submission would wait for the clock) nor sees an answer move time. What waits for the queue to
// settle (the virtual clock between its timers, a test) waits until none is in flight.

let inFlight = 0;
let waiters: (() => void)[] = [];

/** Runs `answer` a turn later, counted in flight until its Promise settles. */
export function roundTrip<T>(answer: () => T | PromiseLike<T>): Promise<T> {
  inFlight++;
  return new Promise<T>((resolve, reject) => {
    setImmediate(() => {
      try {
        Promise.resolve(answer()).then(resolve, reject);
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }).finally(ended);
}

function ended(): void {
  if (--inFlight > 0) return;
  const woken = waiters;
  waiters = [];
  for (const wake of woken) wake();
}

/** A macrotask: promise callbacks and queued microtasks run first, then timers' I/O. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Resolves once no round trip is in flight after a whole turn: what the answers set off
 * (a node's next batch, queued for the end of its turn) has been sent and answered too.
 * Bounded: a queue that never settles (a loop of calls) fails the wait.
 */
export async function roundTripsSettled(maxTurns = 10_000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    await turn();
    if (inFlight === 0) return;
    await new Promise<void>((resolve) => waiters.push(resolve));
  }
  throw new Error(`the queue doubles did not settle within ${maxTurns} turns`);
}
