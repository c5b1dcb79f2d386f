/**
 * The decimal integer at the start of `text`, as C's `atoi`/`strtol`/`strtoll` read it:
 * leading white space, an optional sign, digits; anything else, or nothing, is 0. gearmand
 * reads numbers sent as text this way (timeouts, epoch times, progress).
 */
export function cInteger(text: string): bigint {
  const match = /^\s*([+-]?\d+)/.exec(text);
  return match === null ? 0n : BigInt(match[1]!);
}
