/**
 * A connection that could not be made (directly or through a proxy); the client maps its codes to
 * messages. Its own module, so that code which only recognises the error does not load undici with
 * connect.ts.
 */
export class ConnectError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
