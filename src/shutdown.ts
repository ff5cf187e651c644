/**
 * Graceful shutdown on SIGINT/SIGTERM: stop once (drain MQTT, flush telemetry, close the store),
 * then exit 0. A second signal or an overrun of the timeout exits 1 at once: an operator pressing
 * Ctrl-C twice, or an orchestrator that will SIGKILL us anyway, should not wait on a stuck drain.
 */
import type { Logger } from 'pino';

export interface SignalSource {
  on(event: NodeJS.Signals, listener: () => void): unknown;
  off(event: NodeJS.Signals, listener: () => void): unknown;
}

export interface ShutdownOptions {
  logger: Logger;
  stop: (reason: string) => Promise<void>;
  timeoutMs: number;
  /** Defaults to `process`; tests pass an EventEmitter. */
  signals?: SignalSource;
  /** Defaults to `process.exit`. */
  exit?: (code: number) => void;
  /** Default `setTimeout`, unref'd so the timer alone never keeps the process alive. */
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Clock for telling a relayed duplicate signal from a deliberate second one. */
  now?: () => number;
}

export interface ShutdownHandle {
  /** Starts the same graceful stop a signal would, e.g. after a fatal error. */
  trigger(reason: string): Promise<void>;
  /** Removes the signal listeners (tests, or a host that manages the process itself). */
  uninstall(): void;
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
const DUPLICATE_SIGNAL_MS = 1000;

export function installShutdown(opts: ShutdownOptions): ShutdownHandle {
  const signals = opts.signals ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const setTimer = opts.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms).unref());
  const clearTimer = opts.clearTimer ?? ((h: unknown) => clearTimeout(h as NodeJS.Timeout));
  const log = opts.logger.child({ component: 'shutdown' });
  let stopping: Promise<void> | undefined;
  let exited = false;

  const finish = (code: number) => {
    if (exited) return;
    exited = true;
    exit(code);
  };

  const trigger = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    log.info({ reason, timeoutMs: opts.timeoutMs }, 'shutting down');
    const timer = setTimer(() => {
      log.error({ reason, timeoutMs: opts.timeoutMs }, 'graceful shutdown timed out; exiting');
      finish(1);
    }, opts.timeoutMs);
    stopping = (async () => {
      try {
        await opts.stop(reason);
        clearTimer(timer);
        log.info({ reason }, 'stopped cleanly');
        finish(0);
      } catch (err) {
        clearTimer(timer);
        log.error({ err, reason }, 'shutdown failed');
        finish(1);
      }
    })();
    return stopping;
  };

  const now = opts.now ?? (() => Date.now());
  let firstSignalAt = 0;
  const listeners = SIGNALS.map((signal) => {
    const listener = () => {
      // One Ctrl-C reaches every process of the terminal's group, and npm and tsx relay it to
      // us once more: a repeat within a moment is the same keypress, not an operator's second.
      if (stopping && now() - firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      if (stopping) {
        log.warn({ signal }, 'second signal during shutdown; exiting now');
        finish(1);
        return;
      }
      firstSignalAt = now();
      void trigger(signal);
    };
    signals.on(signal, listener);
    return { signal, listener };
  });

  return {
    trigger,
    uninstall() {
      for (const { signal, listener } of listeners) signals.off(signal, listener);
    },
  };
}
