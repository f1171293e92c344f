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
  const address = await app.listen({ port, host });
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

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  serve().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
