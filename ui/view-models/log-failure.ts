/**
 * For work nobody waits on (a background sync, closing a session, a notification): the failure
 * is logged with what it means for the person, as nothing on screen waits for it; what it was
 * for is retried by the next connect, alarm or sync.
 */
export function logFailure(consequence: string): (error: unknown) => void {
  return (error) => console.warn(`emsg: ${consequence}: ${error instanceof Error ? error.message : String(error)}`);
}
