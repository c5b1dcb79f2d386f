import { InvalidArgumentError, UniqueTooLargeError } from '@geartrain/core';
import { formatErr } from '@geartrain/protocol';

// Pieces of admin replies shared by the commands (reference §4.1 for the line endings).

/** Spaces become `+`, as in gearmand's ERR replies. */
export function plus(text: string): string {
  return text.replace(/ /g, '+');
}

/** A listing: one line each, then `.`. */
export function listing(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('') + '.\n';
}

export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Free text (an error message) as one column of a listing: encoded as gearmand's ERR texts
 * are, a space as `+`, and what would break the listing or the encoding (`%`, `+`, tabs,
 * line ends, other control and space characters) as %XX, so that any form decoder reads
 * it back; `-` when there is none (and a text that is just `-` is `%2D`).
 */
export function columnText(text: string | null): string {
  if (text === null) return '-';
  if (text === '-') return '%2D';
  return text.replace(/[%+\s\p{Cc}]/gu, (c) => (c === ' ' ? '+' : encodeURIComponent(c)));
}

/** A refused change: bad arguments, or a store that could not keep it. */
export function errorReply(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof InvalidArgumentError || error instanceof UniqueTooLargeError) {
    return formatErr(`INVALID_ARGUMENTS ${plus(message)}`);
  }
  return formatErr(`QUEUE_ERROR ${plus(message)}`);
}
