/**
 * Low battery (issue "Execution" item 6): a vehicle under the threshold takes no new trip (the
 * registry keeps it out of `freeVehicles`), finishes the one it has, and is then sent to the
 * nearest free charger by the same command an operator would use. Each such send is recorded
 * as a handled exception; a vehicle that cannot be sent (no free charger) is tried again on the
 * next sweep.
 */
import { PickwireError } from '../errors.js';
import type { AppContext } from './context.js';
import type { DeviceCommandService } from './device-commands.js';
import type { DeviceRegistry, DeviceView } from './device-registry.js';
import { CORE_ACTOR, type ExceptionService } from './exception-service.js';
import { runInTransaction } from './unit-of-work.js';

export class ChargingPolicy {
  /** Vehicles sent to charge in their current low spell; forgotten once above the line. */
  private readonly sent = new Set<string>();
  /** Why the last attempt per vehicle failed, so a wait for a charger is logged once. */
  private readonly waiting = new Map<string, string>();

  constructor(
    private readonly ctx: AppContext,
    private readonly registry: DeviceRegistry,
    private readonly commands: DeviceCommandService,
    private readonly exceptions: ExceptionService,
  ) {}

  sweep(): void {
    const now = this.ctx.clock.now();
    for (const d of this.registry.list()) {
      if (d.class !== 'amr') continue;
      if (!this.registry.isLowOnBattery(d)) {
        this.sent.delete(d.id);
        this.waiting.delete(d.id);
        continue;
      }
      if (this.sent.has(d.id) || d.charging || d.outOfService || !this.registry.isReachable(d, now)) continue;
      // After the current task: a vehicle with work keeps it until done.
      if (d.task !== undefined || d.orderActive) continue;
      this.sendToCharge(d);
    }
  }

  private sendToCharge(d: DeviceView): void {
    let charger: string | undefined;
    try {
      charger = this.commands.execute(d.id, 'charge', CORE_ACTOR).command.charger?.id;
    } catch (err) {
      if (!(err instanceof PickwireError) || err.code !== 'PW_ERR_INVALID_STATE') throw err;
      if (this.waiting.get(d.id) !== err.message) this.ctx.logger.info({ deviceId: d.id, battery: d.battery }, `low battery, cannot charge yet: ${err.message}`);
      this.waiting.set(d.id, err.message);
      return;
    }
    this.sent.add(d.id);
    this.waiting.delete(d.id);
    runInTransaction(this.ctx.store, (after) =>
      this.exceptions.raise(
        {
          type: 'low-battery',
          status: 'handled',
          deviceId: d.id,
          summary: `${d.id} is at ${d.battery ?? '?'} % battery`,
          detail: { battery: d.battery ?? null, lastNodeId: d.lastNodeId ?? null },
          actions: ['no new trips until charged', `sent to charger ${charger ?? '?'} after its last task`],
        },
        after,
      ),
    );
  }
}
