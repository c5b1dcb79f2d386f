import { GeartrainError } from '@geartrain/protocol';

/**
 * The connection to a server was lost (closed, reset, or silent past the request timeout)
 * while this request or foreground job depended on it. A background job accepted by that
 * server is still there; a foreground job's outcome can no longer arrive.
 */
export class ServerLostError extends GeartrainError<'SERVER_LOST'> {
  constructor(
    readonly server: string,
    cause?: unknown,
  ) {
    super('SERVER_LOST', `lost the connection to the Gearman server ${server}`, { cause });
  }
}

/** No server of the list could be reached within the connect timeout. */
export class NoServerError extends GeartrainError<'NO_SERVER'> {
  constructor(readonly servers: readonly string[]) {
    super('NO_SERVER', `no Gearman server is reachable (${servers.join(', ')})`);
  }
}

/** A server answered a request with an ERROR packet the API has no better error for. */
export class ServerError extends GeartrainError<'SERVER_ERROR'> {
  constructor(
    readonly server: string,
    /** The ERROR packet's code, e.g. `QUEUE_ERROR`. */
    readonly serverCode: string,
    readonly text: string,
  ) {
    super('SERVER_ERROR', `${server} answered ${serverCode}: ${text}`);
  }
}

/** The client or worker was closed. */
export class ClientClosedError extends GeartrainError<'CLIENT_CLOSED'> {
  constructor() {
    super('CLIENT_CLOSED', 'the client is closed');
  }
}
