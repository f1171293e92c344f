// Starts the service: build() and listen on PORT (default 8080), with a graceful
// shutdown on SIGTERM and SIGINT that finishes or fails running jobs cleanly.
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { build, type BuildOptions } from './app.js';

export interface ServeOptions extends BuildOptions {
  port?: number;
  host?: string;
}

/** Builds and starts the server; returns the app and the URL it listens on. */
export async function serve(options: ServeOptions = {}): Promise<{ app: FastifyInstance; url: string }> {
  const app = await build({ logger: options.logger ?? process.env.MEMPLAN_LOG !== '0', ...options });
  app.memplan.pool.warm();
  const port = options.port ?? Number(process.env.PORT ?? 8080);
  const host = options.host ?? process.env.HOST ?? '0.0.0.0';
  let address: string;
  try {
    address = await app.listen({ port, host });
  } catch (error) {
    await app.close();
    throw error;
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    // New submissions get 503 while running jobs finish; then the server closes.
    app.memplan
      .shutdown()
      .then(() => app.close())
      .then(
        () => process.exit(0),
        (error) => {
          app.log.error(error);
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return { app, url: address.replace('0.0.0.0', '127.0.0.1') };
}

/** One line for an error that stops the server from starting (a port in use, no permission), not a stack trace. */
export function startupError(error: unknown): string {
  const { code, port, address, message } = (error ?? {}) as { code?: string; port?: number; address?: string; message?: string };
  const where = port === undefined ? 'the port' : `port ${port}${address ? ` on ${address}` : ''}`;
  if (code === 'EADDRINUSE') return `memplan: ${where} is already in use; set PORT (or --port) to a free port`;
  if (code === 'EACCES') return `memplan: no permission to listen on ${where}; use a port above 1023`;
  if (code === 'EADDRNOTAVAIL') return `memplan: the address ${address ?? ''} is not on this machine; set HOST (or --host)`;
  return `memplan: cannot start: ${message ?? String(error)}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  serve().catch((error) => {
    console.error(startupError(error));
    process.exit(1);
  });
}
