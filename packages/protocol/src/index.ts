export {
  PACKET_TYPES,
  HEADER_SIZE,
  MAGIC_REQ,
  MAGIC_RES,
  packetCode,
  packetName,
  type Magic,
  type Packet,
  type PacketCode,
  type PacketName,
  type PacketOf,
  type PacketSpec,
} from './packets.js';
export { GeartrainError, ProtocolError, isBrandedError, type ProtocolErrorCode } from './errors.js';
export {
  encode,
  encodeMany,
  encodeRequest,
  encodeResponse,
  PacketWriter,
  type PacketWriterOptions,
} from './encode.js';
export {
  Decoder,
  decodeAll,
  DEFAULT_MAX_LINE_LENGTH,
  DEFAULT_MAX_PACKET_SIZE,
  FillBudget,
  type DecodedMessage,
  type DecoderOptions,
  type DecoderSink,
} from './decode.js';
export {
  ADMIN_ERRORS,
  MAX_ADMIN_TOKENS,
  formatErr,
  formatOk,
  formatOkValue,
  formatPriorityStatus,
  formatRejection,
  formatShowJobs,
  formatShowUniqueJobs,
  formatStatus,
  formatWorkers,
  parseAdminLine,
  tokenizeAdminLine,
  type AdminCommand,
  type JobRow,
  type PriorityStatusRow,
  type QueueLimits,
  type StatusRow,
  type WorkerRow,
} from './admin.js';
export { owned } from './owned.js';
export {
  WIRE_ERRORS,
  errorCodeOf,
  errorPacket,
  errorPacketFor,
  wireErrorOf,
  type WireErrorName,
} from './wire-errors.js';
export { InvalidAddressError, parseAddress, type ParsedAddress } from './address.js';
