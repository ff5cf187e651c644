/**
 * Runs the real process entry (`node --import tsx src/main.ts`) for process-level tests. Each
 * process is started as the leader of its own process group, so cleanup can take down the core
 * and the simulated-site child it spawns in one `kill(-pgid)`, even when a test fails midway.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Banner {
  /** Reachable HTTP base, rewritten to 127.0.0.1 (the banner prints `localhost`). */
  httpUrl: string;
  mqttUrl: string;
  raw: string;
}

export interface PickwireProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited (and its stdio is closed). */
  readonly exited: Promise<Exit>;
  /** Waits for the start banner and parses the HTTP and MQTT URLs out of it. */
  banner(timeoutMs?: number): Promise<Banner>;
  /** Waits for exit, rejecting after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<Exit>;
  /** Kills the whole process group (core + simulator child) with SIGKILL if anything is left. */
  kill(): void;
}

const live = new Set<PickwireProcess>();

/**
 * The environment of a test process: loopback on free ports, its own data dir, one admin token,
 * and no simulated order feed, so only the test's own orders compete for the robots.
 */
export function pickwireEnv(opts: { dataDir: string; adminToken: string; simulate: boolean; extra?: Record<string, string> }): Record<string, string> {
  return {
    PICKWIRE_HTTP_PORT: '0',
    PICKWIRE_HTTP_HOST: '127.0.0.1',
    PICKWIRE_MQTT_PORT: '0',
    PICKWIRE_MQTT_HOST: '127.0.0.1',
    PICKWIRE_DATA_DIR: opts.dataDir,
    PICKWIRE_TOKENS: `admin:admin:${opts.adminToken}`,
    PICKWIRE_SIMULATE: String(opts.simulate),
    PICKWIRE_LOG_LEVEL: 'warn',
    PICKWIRE_ORDER_FEED_RATE: '0',
    ...opts.extra,
  };
}

export function startPickwire(opts: { env: Record<string, string>; args?: string[] }): PickwireProcess {
  // Only what the process needs from the parent's environment; nothing PICKWIRE_* leaks in.
  const base: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
    const v = process.env[k];
    if (v !== undefined) base[k] = v;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...base, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) throw new Error('could not spawn node');
  const pid = child.pid;
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  let done = false;
  void exited.then(() => (done = true));

  const handle: PickwireProcess = {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    async banner(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const api = /^ {2}API: +http:\/\/[^:/\s]+:(\d+)\/api\/v1/m.exec(out);
        const mqtt = /^ {2}MQTT: +(mqtts?:\/\/\S+)/m.exec(out);
        if (api?.[1] && mqtt?.[1]) return { httpUrl: `http://127.0.0.1:${api[1]}`, mqttUrl: mqtt[1], raw: out };
        if (done) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no start banner within ${timeoutMs} ms (exited: ${done})\n--- stdout ---\n${out.slice(-4000)}\n--- stderr ---\n${err.slice(-4000)}`);
    },
    async waitForExit(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`process ${pid} did not exit within ${timeoutMs} ms\n--- stderr ---\n${err.slice(-4000)}`)), timeoutMs);
      });
      try {
        return await Promise.race([exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    kill() {
      try {
        // Negative pid: the process group this spawn created (core and its simulator child).
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
      live.delete(handle);
    },
  };
  live.add(handle);
  return handle;
}

/** Kills every process group this module started and that is still around. */
export function killAllStarted(): void {
  for (const p of [...live]) p.kill();
}

/** Direct children of `pid` (Linux /proc), with their command lines. */
export function childrenOf(pid: number): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command name: state, ppid, ...
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(rest[1]) !== pid) continue;
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim();
      found.push({ pid: Number(name), cmdline });
    } catch {
      // raced with an exiting process
    }
  }
  return found;
}

/** True while `pid` is a running (not zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A loopback port that was free a moment ago (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
