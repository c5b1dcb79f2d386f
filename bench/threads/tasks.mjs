// The tasks of `npm run bench -- threads`, for both pools: geartrain's handlers take a job
// context, piscina's default export takes the task itself.

/** The tiny job: its payload back. */
export function tiny(job) {
  return job.payload;
}

/** A CPU-bound job: ~2 ms of arithmetic, the same for each. */
export function cpu() {
  let x = 0;
  for (let i = 0; i < 3_000_000; i++) x = (x * 31 + i) % 1_000_003;
  return String(x);
}

export default function piscinaTiny(task) {
  return task;
}
