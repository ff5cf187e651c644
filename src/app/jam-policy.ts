/**
 * Conveyor jams (issue "Execution" item 6): a conveyor reporting a fault stops taking totes, so
 * what feeds it is paused — the AS/RS whose ports put totes on it — before totes pile up at the
 * ports; an open exception tells operators where. When the belt reports healthy again, the
 * core resumes what it paused and marks the exception handled.
 *
 * A jam of the whole belt stops every tote on it, so they wait for it. A jam at one stop's
 * infeed, while the belt runs, is another matter: the conveyor reports it on each tote's job and
 * ./station-reroute.ts sends those totes to another arm station.
 */
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import type { DeviceCommandService } from './device-commands.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import { CORE_ACTOR, type ExceptionService } from './exception-service.js';
import { runInTransaction } from './unit-of-work.js';

interface Jam {
  exceptionId: string;
  /** Devices the core paused for this jam, to resume when it clears. */
  paused: string[];
}

export class JamPolicy {
  private readonly jams = new Map<string, Jam>();
  /** Conveyor id -> the AS/RS devices whose ports feed it. */
  private readonly upstream: ReadonlyMap<string, string[]>;

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly commands: DeviceCommandService,
    private readonly exceptions: ExceptionService,
  ) {
    const feeds = new Map<string, string[]>();
    for (const a of ctx.layout.devices.asrs) {
      for (const port of a.ports) feeds.set(port.conveyorId, [...new Set([...(feeds.get(port.conveyorId) ?? []), a.id])]);
    }
    this.upstream = feeds;
  }

  sweep(): void {
    for (const d of this.registry.list()) {
      if (d.class !== 'conveyor') continue;
      const jammed = d.deviceState === 'FAULT';
      const known = this.jams.get(d.id);
      if (jammed && !known) this.onJam(d);
      else if (!jammed && known) this.onCleared(d, known);
    }
  }

  private onJam(conveyor: DeviceView): void {
    const paused: string[] = [];
    const actions: string[] = [];
    for (const id of this.upstream.get(conveyor.id) ?? []) {
      try {
        this.commands.execute(id, 'pause', CORE_ACTOR);
        paused.push(id);
        actions.push(`paused ${id}, which feeds ${conveyor.id}`);
      } catch (err) {
        if (!(err instanceof PickwireError)) throw err;
        actions.push(`could not pause ${id}: ${err.message}`);
      }
    }
    actions.push('totes on the belt wait: the whole belt stopped');
    const record = runInTransaction(this.ctx.store, (after) =>
      this.exceptions.raise(
        {
          type: 'conveyor-jam',
          status: 'open',
          deviceId: conveyor.id,
          summary: `${conveyor.id} is jammed (device state FAULT)`,
          detail: { deviceState: conveyor.deviceState ?? null, errors: conveyor.errors },
          actions,
        },
        after,
      ),
    );
    this.jams.set(conveyor.id, { exceptionId: record.id, paused });
  }

  private onCleared(conveyor: DeviceView, jam: Jam): void {
    const resumed: string[] = [];
    for (const id of jam.paused) {
      try {
        this.commands.execute(id, 'resume', CORE_ACTOR);
        resumed.push(id);
      } catch (err) {
        if (!(err instanceof PickwireError)) throw err;
        this.ctx.logger.warn({ deviceId: id, conveyor: conveyor.id }, `could not resume after the jam: ${err.message}`);
      }
    }
    runInTransaction(this.ctx.store, (after) =>
      this.exceptions.settle(jam.exceptionId, `jam cleared${resumed.length > 0 ? `: resumed ${resumed.join(', ')}` : ''}`, after),
    );
    this.jams.delete(conveyor.id);
  }
}
