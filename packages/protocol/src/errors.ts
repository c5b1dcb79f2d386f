const brands = new Map<string, symbol>();

/**
 * The registered symbol that brands instances of the geartrain error class `className`.
 * Kept per name: `instanceof` runs on hot paths (the decoder asks it of every packet), and
 * `Symbol.for` of a new string each time cost a concatenation and a registry lookup.
 */
function brandOf(className: string): symbol {
  let brand = brands.get(className);
  if (brand === undefined) {
    brand = Symbol.for(`geartrain.error.${className}`);
    brands.set(className, brand);
  }
  return brand;
}

/**
 * Whether `value` was made by the geartrain error class named `className` or a subclass, by
 * whatever copy of the package: what `instanceof` answers for geartrain errors, for code
 * that does not import the class (a worker thread's entry).
 */
export function isBrandedError(value: unknown, className: string): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brandOf(className)] === true
  );
}

/**
 * The base of every error geartrain throws or reports: a stable, literal `code` that
 * programs can switch on, a human message, and the underlying `cause` when there is one.
 *
 * `instanceof` works across copies of the package (a handler module in a worker thread, a
 * second install): each instance carries a registered symbol per class of its chain
 * (`Symbol.for('geartrain.error.<Class>')`, not enumerable), and `Symbol.hasInstance` reads
 * it, as undici's errors do (decision 19).
 */
export class GeartrainError<Code extends string = string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
    for (
      let c = new.target as object;
      c !== Error && c !== null;
      c = Object.getPrototypeOf(c) as object
    ) {
      Object.defineProperty(this, brandOf((c as { name: string }).name), { value: true });
    }
  }

  // A type predicate, so that `instanceof` narrows to the class it is asked of.
  static override [Symbol.hasInstance]<T>(
    this: abstract new (...args: never[]) => T,
    value: unknown,
  ): value is T {
    return isBrandedError(value, this.name);
  }
}

/**
 * Codes of {@link ProtocolError}.
 *
 * - `BAD_MAGIC`: a binary header whose magic is neither `\0REQ` nor `\0RES`.
 * - `UNKNOWN_TYPE`: a packet type number Gearman does not define (0 or above 42).
 * - `TOO_LARGE`: a header announcing more payload than the configured maximum.
 * - `MALFORMED_PACKET`: the payload lacks the NUL separators its type requires.
 * - `INVALID_TEXT`: a text argument (function name, unique id, handle, …) or an admin
 *   line that is not valid UTF-8.
 * - `LINE_TOO_LONG`: an admin text line longer than the configured maximum.
 * - `INVALID_ARGUMENT`: a packet given to the encoder that cannot be framed (a missing
 *   argument, or a NUL byte inside a NUL-terminated argument).
 */
export type ProtocolErrorCode =
  | 'BAD_MAGIC'
  | 'UNKNOWN_TYPE'
  | 'TOO_LARGE'
  | 'MALFORMED_PACKET'
  | 'INVALID_TEXT'
  | 'LINE_TOO_LONG'
  | 'INVALID_ARGUMENT';

/**
 * A violation of the Gearman wire protocol found by the decoder.
 *
 * `resyncable` says whether the decoder could find the end of the offending message and
 * carry on with the next one. When it is `false` the stream is unusable and the decoder
 * ignores everything pushed afterwards: the connection should be closed.
 */
export class ProtocolError extends GeartrainError<ProtocolErrorCode> {
  readonly resyncable: boolean;
  /** The packet type number of the offending packet, when a header was read. */
  readonly packetType: number | undefined;

  constructor(
    code: ProtocolErrorCode,
    message: string,
    options: { resyncable: boolean; packetType?: number; cause?: unknown },
  ) {
    super(code, message, { cause: options.cause });
    this.resyncable = options.resyncable;
    this.packetType = options.packetType;
  }
}
