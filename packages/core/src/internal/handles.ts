// A job handle is `<prefix>:<seq>`: the server's prefix (`H:<host>` by default) and the
// job's sequence number. Made, read and matched here only.

/** The handle of job `seq` under `prefix`. */
export function makeHandle(prefix: string, seq: number): string {
  return `${prefix}:${seq}`;
}

/**
 * The sequence number a handle ends with (`…:<n>`: no sign, no leading zero, at most 15
 * digits), or undefined. Any prefix is accepted, since a replayed job keeps the handle an
 * earlier run gave it; the caller checks that the job with that number has this handle.
 */
export function handleSeq(handle: string): number | undefined {
  const start = handle.lastIndexOf(':') + 1;
  const length = handle.length - start;
  if (length < 1 || length > 15 || (length > 1 && handle.charCodeAt(start) === 0x30))
    return undefined;
  let seq = 0;
  for (let i = start; i < handle.length; i++) {
    const digit = handle.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    seq = seq * 10 + digit;
  }
  return seq;
}

/**
 * Whether `handle`, whose tail `handleSeq` read as a seq, is that seq's handle under
 * `prefix`: the part before the last ':' is the prefix. No string is made.
 */
export function madeUnder(handle: string, prefix: string): boolean {
  return handle.lastIndexOf(':') === prefix.length && handle.startsWith(prefix);
}
