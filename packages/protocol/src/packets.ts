/**
 * The Gearman binary packet table (reference §1.1 and §2).
 *
 * This one `as const` table is the single source of truth: the TypeScript union of
 * packets, the encoder and the decoder are all derived from it. Adding a packet type
 * is one line here.
 *
 * - `args`: the names of the text arguments, in wire order.
 * - `data`: whether an opaque blob (which may contain NUL bytes) follows the arguments.
 *
 * Parsing rule (§1.1): with `data`, every named argument is NUL-terminated and the blob
 * is the rest of the payload. Without `data`, all but the last argument are
 * NUL-terminated and the last one is the rest of the payload (NULs included). A packet
 * with no arguments and no data ignores whatever payload it carries.
 */
export const PACKET_TYPES = [
  { code: 1, name: 'CAN_DO', args: ['functionName'], data: false },
  { code: 2, name: 'CANT_DO', args: ['functionName'], data: false },
  { code: 3, name: 'RESET_ABILITIES', args: [], data: false },
  { code: 4, name: 'PRE_SLEEP', args: [], data: false },
  { code: 5, name: 'UNUSED', args: [], data: false },
  { code: 6, name: 'NOOP', args: [], data: false },
  { code: 7, name: 'SUBMIT_JOB', args: ['functionName', 'unique'], data: true },
  { code: 8, name: 'JOB_CREATED', args: ['handle'], data: false },
  { code: 9, name: 'GRAB_JOB', args: [], data: false },
  { code: 10, name: 'NO_JOB', args: [], data: false },
  { code: 11, name: 'JOB_ASSIGN', args: ['handle', 'functionName'], data: true },
  { code: 12, name: 'WORK_STATUS', args: ['handle', 'numerator', 'denominator'], data: false },
  { code: 13, name: 'WORK_COMPLETE', args: ['handle'], data: true },
  { code: 14, name: 'WORK_FAIL', args: ['handle'], data: false },
  { code: 15, name: 'GET_STATUS', args: ['handle'], data: false },
  { code: 16, name: 'ECHO_REQ', args: [], data: true },
  { code: 17, name: 'ECHO_RES', args: [], data: true },
  { code: 18, name: 'SUBMIT_JOB_BG', args: ['functionName', 'unique'], data: true },
  { code: 19, name: 'ERROR', args: ['errorCode', 'errorText'], data: false },
  {
    code: 20,
    name: 'STATUS_RES',
    args: ['handle', 'known', 'running', 'numerator', 'denominator'],
    data: false,
  },
  { code: 21, name: 'SUBMIT_JOB_HIGH', args: ['functionName', 'unique'], data: true },
  { code: 22, name: 'SET_CLIENT_ID', args: ['clientId'], data: false },
  { code: 23, name: 'CAN_DO_TIMEOUT', args: ['functionName', 'timeout'], data: false },
  { code: 24, name: 'ALL_YOURS', args: [], data: false },
  { code: 25, name: 'WORK_EXCEPTION', args: ['handle'], data: true },
  { code: 26, name: 'OPTION_REQ', args: ['option'], data: false },
  { code: 27, name: 'OPTION_RES', args: ['option'], data: false },
  { code: 28, name: 'WORK_DATA', args: ['handle'], data: true },
  { code: 29, name: 'WORK_WARNING', args: ['handle'], data: true },
  { code: 30, name: 'GRAB_JOB_UNIQ', args: [], data: false },
  { code: 31, name: 'JOB_ASSIGN_UNIQ', args: ['handle', 'functionName', 'unique'], data: true },
  { code: 32, name: 'SUBMIT_JOB_HIGH_BG', args: ['functionName', 'unique'], data: true },
  { code: 33, name: 'SUBMIT_JOB_LOW', args: ['functionName', 'unique'], data: true },
  { code: 34, name: 'SUBMIT_JOB_LOW_BG', args: ['functionName', 'unique'], data: true },
  {
    code: 35,
    name: 'SUBMIT_JOB_SCHED',
    args: ['functionName', 'unique', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek'],
    data: true,
  },
  { code: 36, name: 'SUBMIT_JOB_EPOCH', args: ['functionName', 'unique', 'epoch'], data: true },
  {
    code: 37,
    name: 'SUBMIT_REDUCE_JOB',
    args: ['functionName', 'unique', 'reducer', 'aggregator'],
    data: true,
  },
  {
    code: 38,
    name: 'SUBMIT_REDUCE_JOB_BACKGROUND',
    args: ['functionName', 'unique', 'reducer', 'aggregator'],
    data: true,
  },
  { code: 39, name: 'GRAB_JOB_ALL', args: [], data: false },
  {
    code: 40,
    name: 'JOB_ASSIGN_ALL',
    args: ['handle', 'functionName', 'unique', 'reducer'],
    data: true,
  },
  { code: 41, name: 'GET_STATUS_UNIQUE', args: ['unique'], data: false },
  {
    code: 42,
    name: 'STATUS_RES_UNIQUE',
    args: ['unique', 'known', 'running', 'numerator', 'denominator', 'clientCount'],
    data: false,
  },
] as const;

/**
 * Types whose blob may come without the NUL that ends the handle, meaning empty data.
 * Perl's Gearman::Worker sends WORK_COMPLETE, WORK_DATA and WORK_WARNING that way when the
 * value is `""` or `0` (`$v ? join("\0", $h, $v) : $h`). gearmand closes such a worker's
 * connection and the job runs again elsewhere; geartrain reads them as empty data
 * (decision 18). Every other packet missing a separator is still malformed.
 */
export const BARE_HANDLE_MEANS_EMPTY_DATA: ReadonlySet<number> = new Set([13, 28, 29]);

/** One row of {@link PACKET_TYPES}. */
export type PacketSpec = (typeof PACKET_TYPES)[number];

/** Every packet type name, e.g. `'SUBMIT_JOB'`. */
export type PacketName = PacketSpec['name'];

/** Every packet type number, 1 to 42. */
export type PacketCode = PacketSpec['code'];

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type SpecOf<N extends PacketName> = Extract<PacketSpec, { name: N }>;

/**
 * The packet of type `N`: its `type`, one string per text argument and, for
 * data-carrying types, the opaque `data` Buffer.
 */
export type PacketOf<N extends PacketName> = Simplify<
  { readonly type: N } & {
    readonly [K in SpecOf<N>['args'][number]]: string;
  } & (SpecOf<N>['data'] extends true ? { readonly data: Buffer } : unknown)
>;

/** The union of every Gearman packet. Narrow it with `packet.type`. */
export type Packet = { [N in PacketName]: PacketOf<N> }[PacketName];

/** `\0REQ` (to the server) or `\0RES` (from the server). */
export type Magic = 'REQ' | 'RES';

export const MAGIC_REQ = 0x00524551;
export const MAGIC_RES = 0x00524553;
export const HEADER_SIZE = 12;

/** Internal lookup tables derived from {@link PACKET_TYPES}. */
export const SPEC_BY_CODE: readonly (PacketSpec | undefined)[] = (() => {
  const table: (PacketSpec | undefined)[] = [];
  for (const spec of PACKET_TYPES) table[spec.code] = spec;
  return table;
})();

export const SPEC_BY_NAME: { readonly [N in PacketName]: SpecOf<N> } = Object.fromEntries(
  PACKET_TYPES.map((spec) => [spec.name, spec]),
) as { [N in PacketName]: SpecOf<N> };

/** The packet type number of a packet name. */
export function packetCode(name: PacketName): PacketCode {
  return SPEC_BY_NAME[name].code;
}

/** The packet name of a type number, or `undefined` for numbers Gearman does not define. */
export function packetName(code: number): PacketName | undefined {
  return SPEC_BY_CODE[code]?.name;
}
