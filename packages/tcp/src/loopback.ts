/** Whether an address is this machine's loopback (or a stream served in process). */
export function isLoopback(address: string): boolean {
  return (
    address === '::1' ||
    address.startsWith('127.') ||
    address.startsWith('::ffff:127.') ||
    address === 'in-process'
  );
}
