/**
 * Bad arguments, found before anything is opened: the command prints `geartrain: ` and the
 * message, then "Try 'geartrain --help'.", and exits 2.
 */
export class UsageRefusal extends Error {}

/**
 * The work could not be done with arguments that were right (a port in use, a store that
 * cannot be opened, a pid file that cannot be written): the command prints `geartrain: `
 * and the message, and exits 1.
 */
export class StartFailure extends Error {}
