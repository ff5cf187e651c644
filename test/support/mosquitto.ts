/**
 * Starts a real Mosquitto (Debian's package) on a free loopback port for interop tests. When the
 * binary is missing, `mosquittoBinary()` is undefined and those tests are skipped with the reason.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.js';

export function mosquittoBinary(): string | undefined {
  return ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
}

export const MOSQUITTO_SKIP_REASON = 'mosquitto is not installed (Debian package `mosquitto`; .ci/run installs it) — external-broker interop tests skipped';

export interface RunningMosquitto {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** Stops the broker (SIGTERM) and starts it again on the same port, after `downMs` without one. */
  restart(downMs?: number): Promise<void>;
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms`);
}

export async function startMosquitto(): Promise<RunningMosquitto> {
  const bin = mosquittoBinary();
  if (!bin) throw new Error(MOSQUITTO_SKIP_REASON);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'pickwire-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_type error', 'log_type warning', ''].join('\n'));
  let child: ChildProcess | undefined;
  const launch = async (): Promise<void> => {
    child = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitForPort(port, 10_000);
  };
  const kill = async (): Promise<void> => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    restart: async (downMs = 0) => {
      await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
